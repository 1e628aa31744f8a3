//! The paste buffer: keys never drawn (pasted at once or typed char by char, also half
//! pasted), certificates drawn as typed, line ends normalised, the size cap.

use super::*;

/// A certificate and its key, made now (rcgen, P-256 PKCS#8).
fn cert_and_key() -> (String, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["broker.test".into()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    (cert.pem(), key.serialize_pem())
}

/// An RSA key in the traditional `RSA PRIVATE KEY` form, made by openssl now.
fn rsa_traditional_key() -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rsa.pem");
    let status = std::process::Command::new("openssl")
        .args(["genrsa", "-traditional", "-out"])
        .arg(&path)
        .arg("2048")
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::read_to_string(path).unwrap()
}

/// The body lines of a PEM block (between BEGIN and END).
fn body(pem: &str) -> Vec<String> {
    pem.lines()
        .filter(|l| !l.starts_with("-----") && !l.trim().is_empty())
        .map(String::from)
        .collect()
}

/// The canary: no display line holds any 12 characters of a key body line (but those the
/// certificate shares with its key: algorithm identifiers and the public key are in both).
fn assert_no_key_text(shown: &[String], key: &str) {
    assert_no_key_text_but(shown, key, "");
}

fn assert_no_key_text_but(shown: &[String], key: &str, public: &str) {
    let joined = shown.join("\n");
    let public = public.replace('\n', "");
    for line in body(key) {
        for window in line.as_bytes().windows(12) {
            let w = std::str::from_utf8(window).unwrap();
            if public.contains(w) {
                continue;
            }
            assert!(!joined.contains(w), "key text {w:?} shown in {joined}");
        }
    }
}

#[test]
fn a_key_pasted_at_once_is_one_hidden_line_and_its_certificate_is_shown() {
    let (cert, key) = cert_and_key();
    let mut p = PasteBuffer::new();
    p.insert(&format!("{cert}{key}")).unwrap();
    let shown = p.lines_for_display(80);
    assert_no_key_text_but(&shown, &key, &cert);
    let n = body(&key).len();
    let key_part: Vec<&str> = shown
        .iter()
        .map(String::as_str)
        .skip_while(|l| !l.contains("PRIVATE"))
        .collect();
    assert_eq!(
        key_part,
        vec![
            "-----BEGIN PRIVATE KEY-----".to_string(),
            format!("(private key, {n} lines, hidden)"),
            "-----END PRIVATE KEY-----".to_string(),
            String::new(),
        ]
    );
    for line in body(&cert) {
        assert!(shown.contains(&line), "certificate line {line} not shown");
    }
    assert_eq!(p.bytes(), format!("{cert}{key}").as_bytes());
}

#[test]
fn a_key_typed_char_by_char_never_shows_at_any_point() {
    let (_, key) = cert_and_key();
    let mut p = PasteBuffer::new();
    for c in key.chars() {
        if c == '\n' {
            p.newline().unwrap();
        } else {
            p.push_char(c).unwrap();
        }
        assert_no_key_text(&p.lines_for_display(80), &key);
    }
    assert_eq!(p.bytes(), key.as_bytes());
}

#[test]
fn a_half_pasted_rsa_key_counts_its_lines_so_far_and_shows_none() {
    let key = rsa_traditional_key();
    let half: String = key.lines().take(10).map(|l| format!("{l}\n")).collect();
    let mut p = PasteBuffer::new();
    p.insert(&half).unwrap();
    let shown = p.lines_for_display(80);
    assert_no_key_text(&shown, &key);
    // Nine body lines and the empty line after the last newline, still in the block.
    assert_eq!(
        shown,
        vec![
            "-----BEGIN RSA PRIVATE KEY-----",
            "(private key, 10 lines, hidden)"
        ]
    );
    p.insert(&key[half.len()..]).unwrap();
    let n = body(&key).len();
    assert_eq!(n, 25, "a 2048-bit RSA key is 25 lines of base64");
    assert_eq!(
        p.lines_for_display(80),
        vec![
            "-----BEGIN RSA PRIVATE KEY-----".to_string(),
            format!("(private key, {n} lines, hidden)"),
            "-----END RSA PRIVATE KEY-----".to_string(),
            String::new(),
        ]
    );
}

#[test]
fn an_encrypted_key_and_a_key_whose_line_ends_were_lost_stay_hidden() {
    let (_, key) = cert_and_key();
    let one_line = key.replace('\n', " ");
    let mut p = PasteBuffer::new();
    p.insert(&one_line).unwrap();
    let shown = p.lines_for_display(200);
    assert_no_key_text(&shown, &key);
    assert_eq!(
        shown,
        vec![
            "-----BEGIN PRIVATE KEY-----",
            "(private key, 1 line, hidden)",
            "-----END PRIVATE KEY----- "
        ]
    );
    let mut p = PasteBuffer::new();
    p.insert("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkq\n")
        .unwrap();
    assert_eq!(
        p.lines_for_display(80),
        vec![
            "-----BEGIN ENCRYPTED PRIVATE KEY-----",
            "(private key, 2 lines, hidden)"
        ]
    );
}

#[test]
fn crlf_and_cr_become_newlines_and_control_characters_are_made_visible() {
    let mut p = PasteBuffer::new();
    p.insert("a\r\nb\rc\u{1b}[2J").unwrap();
    assert_eq!(p.bytes(), b"a\nb\nc\x1b[2J");
    assert_eq!(p.lines_for_display(80), vec!["a", "b", "c\\u{1b}[2J"]);
}

#[test]
fn long_lines_are_cut_to_the_width() {
    let mut p = PasteBuffer::new();
    p.insert("abcdefghij").unwrap();
    assert_eq!(p.lines_for_display(5), vec!["abcd…"]);
}

#[test]
fn backspace_and_clear_edit_the_text() {
    let mut p = PasteBuffer::new();
    assert!(!p.backspace());
    p.insert("ab").unwrap();
    assert!(p.backspace());
    assert_eq!(p.bytes(), b"a");
    p.clear();
    assert!(p.is_empty());
    assert_eq!(p.lines_for_display(80), vec![""]);
}

#[test]
fn a_paste_past_the_cap_is_refused_whole_with_a_sentence() {
    let mut p = PasteBuffer::new();
    p.insert("x").unwrap();
    let big = "y".repeat(8 * 1024 * 1024);
    assert_eq!(
        p.insert(&big),
        Err(
            "not pasted: 8388609 bytes would make the text larger than the 8 MiB a certificate or key may be; load it from a file instead"
                .to_string()
        )
    );
    assert_eq!(p.bytes(), b"x");
}

#[test]
fn debug_never_shows_the_text() {
    let mut p = PasteBuffer::new();
    p.insert("-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n").unwrap();
    assert_eq!(format!("{p:?}"), "PasteBuffer { text: [redacted] }");
}

const NOW: i64 = crate::certs::testutil::NOW;

#[test]
fn pasted_certificates_alone_are_trusted_through_a_ca_file_written_at_save() {
    let (cert, _) = cert_and_key();
    let mut p = PasteBuffer::new();
    p.insert(&cert.replace('\n', "\r\n")).unwrap();
    let found = p.examine(None, Some("broker.test".into()), NOW).unwrap();
    assert_eq!(found.label, "pasted text");
    assert_eq!(found.key, None);
    assert_eq!(found.der.len(), 1);
    assert_eq!(found.host.as_deref(), Some("broker.test"));
    match &found.material {
        Material::Presented {
            pem,
            trusted_by_system,
        } => {
            assert_eq!(pem, &cert);
            assert!(!trusted_by_system);
        }
        other => panic!("expected Presented, got {other:?}"),
    }
}

#[test]
fn a_pasted_certificate_and_key_go_to_the_keyring_and_debug_shows_neither() {
    let (cert, key) = cert_and_key();
    let mut p = PasteBuffer::new();
    p.insert(&format!("{cert}{key}")).unwrap();
    let found = p.examine(None, None, NOW).unwrap();
    assert_eq!(found.key, Some("a private key (PKCS#8)"));
    assert!(matches!(found.material, Material::Pem { key: Some(_), .. }));
    let debug = format!("{found:?}");
    for line in body(&key) {
        assert!(!debug.contains(&line), "key line in Debug: {line}");
    }
}

#[test]
fn an_empty_paste_or_a_key_alone_is_one_sentence() {
    let p = PasteBuffer::new();
    assert_eq!(
        p.examine(None, None, NOW).unwrap_err(),
        LoadFailure::Other(EMPTY.into())
    );
    let (_, key) = cert_and_key();
    let mut p = PasteBuffer::new();
    p.insert(&key).unwrap();
    assert_eq!(
        p.examine(None, None, NOW).unwrap_err(),
        LoadFailure::Other(
            "\"pasted text\" holds no certificate, only a private key (PKCS#8); a certificate was expected here."
                .into()
        )
    );
}
