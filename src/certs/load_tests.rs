use super::*;
use crate::certs::testutil::*;

fn message(e: &CertError) -> String {
    e.to_string()
}

#[test]
fn pem_bundle_with_certs_and_pkcs8_key() {
    let c = chain();
    let text = format!(
        "subject=CN=whatever\n{}{}{}",
        pem(&c.leaf.der, "CERTIFICATE"),
        pem(&c.inter.der, "CERTIFICATE"),
        c.leaf.key.serialize_pem()
    );
    let loaded = load("bundle.pem", text.as_bytes(), None).unwrap();
    assert_eq!(loaded.format, Format::Pem);
    assert_eq!(loaded.certs, vec![c.leaf.der.clone(), c.inter.der.clone()]);
    assert!(matches!(loaded.key, Some(PrivateKeyDer::Pkcs8(_))));
}

#[test]
fn der_certificate_and_der_key() {
    let c = chain();
    let loaded = load("leaf.der", &c.leaf.der, None).unwrap();
    assert_eq!(loaded.format, Format::Der);
    assert_eq!(loaded.certs.len(), 1);
    let key = load("leaf.key.der", &c.leaf.key.serialize_der(), None).unwrap();
    assert!(key.certs.is_empty());
    assert!(matches!(key.key, Some(PrivateKeyDer::Pkcs8(_))));
}

#[test]
fn empty_file_names_the_file() {
    for bytes in [&b""[..], b"  \n\n"] {
        let e = load("empty.pem", bytes, None).unwrap_err();
        assert_eq!(
            e,
            CertError::Empty {
                label: "empty.pem".into()
            }
        );
        assert!(message(&e).contains("\"empty.pem\" is empty"), "{e}");
    }
}

#[test]
fn random_text_is_not_pem() {
    let e = load("notes.txt", b"0 hello, this is not a certificate\n", None).unwrap_err();
    assert!(matches!(e, CertError::NotPem { .. }), "{e:?}");
    assert!(
        message(&e).contains("\"notes.txt\" is a text file but not PEM"),
        "{e}"
    );
}

#[test]
fn random_binary_is_unrecognized() {
    let e = load("blob.bin", &[0xff, 0x00, 0x13, 0x37, 0x80], None).unwrap_err();
    assert!(matches!(e, CertError::Unrecognized { .. }), "{e:?}");
    assert!(message(&e).contains("\"blob.bin\""), "{e}");
}

#[test]
fn truncated_pem_names_file_and_block() {
    let c = chain();
    let full = format!(
        "{}{}",
        pem(&c.leaf.der, "CERTIFICATE"),
        pem(&c.inter.der, "CERTIFICATE")
    );
    let cut = &full[..full.len() - 200];
    let e = load("chain.pem", cut.as_bytes(), None).unwrap_err();
    assert!(
        matches!(e, CertError::Truncated { block: Some(2), .. }),
        "{e:?}"
    );
    let m = message(&e);
    assert!(
        m.starts_with("PEM block 2 of \"chain.pem\" is truncated"),
        "{m}"
    );
}

#[test]
fn pem_with_end_line_but_short_body_is_truncated() {
    let c = chain();
    let body = pem(&c.leaf.der[..c.leaf.der.len() - 30], "CERTIFICATE");
    let e = load("short.pem", body.as_bytes(), None).unwrap_err();
    assert!(
        matches!(e, CertError::Truncated { block: Some(1), .. }),
        "{e:?}"
    );
    assert!(message(&e).contains("\"short.pem\""), "{e}");
}

#[test]
fn truncated_der_names_the_file() {
    let c = chain();
    let cut = &c.leaf.der[..c.leaf.der.len() / 2];
    let e = load("leaf.der", cut, None).unwrap_err();
    assert!(
        matches!(e, CertError::Truncated { block: None, .. }),
        "{e:?}"
    );
    assert!(message(&e).starts_with("\"leaf.der\" is truncated"), "{e}");
}

#[test]
fn key_only_file_given_where_certificates_are_expected() {
    let c = chain();
    let e =
        load_certificates("client.key", c.leaf.key.serialize_pem().as_bytes(), None).unwrap_err();
    assert!(matches!(e, CertError::NoCertificate { .. }), "{e:?}");
    let m = message(&e);
    assert!(
        m.contains("\"client.key\" holds no certificate, only a private key (PKCS#8)"),
        "{m}"
    );
    // The same bytes as DER.
    let e = load_certificates("client.der", &c.leaf.key.serialize_der(), None).unwrap_err();
    assert!(message(&e).contains("\"client.der\""), "{e}");
}

#[test]
fn unknown_pem_label_names_block_and_label() {
    let c = chain();
    let text = format!(
        "{}{}",
        pem(&c.leaf.der, "CERTIFICATE"),
        pem(b"\x30\x00", "CERTIFICATE REQUEST")
    );
    let e = load("mixed.pem", text.as_bytes(), None).unwrap_err();
    assert_eq!(
        e,
        CertError::UnknownPemLabel {
            label: "mixed.pem".into(),
            block: 2,
            pem_label: "CERTIFICATE REQUEST".into()
        }
    );
    assert!(
        message(&e).contains("PEM block 2 of \"mixed.pem\" has the label \"CERTIFICATE REQUEST\"")
    );
}

#[test]
fn bad_base64_is_corrupt() {
    let text = "-----BEGIN CERTIFICATE-----\n@@@not base64@@@\n-----END CERTIFICATE-----\n";
    let e = load("bad.pem", text.as_bytes(), None).unwrap_err();
    assert!(
        matches!(e, CertError::Corrupt { block: Some(1), .. }),
        "{e:?}"
    );
}

#[test]
fn ec_parameters_block_is_skipped() {
    let c = chain();
    let text = format!(
        "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n{}",
        c.leaf.key.serialize_pem()
    );
    let loaded = load("ec.pem", text.as_bytes(), None).unwrap();
    assert!(loaded.key.is_some());
}

#[test]
fn unreadable_file_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing.pem");
    let e = load_file(&path, None).unwrap_err();
    assert!(matches!(e, CertError::Unreadable { .. }));
    assert!(message(&e).contains("missing.pem"), "{e}");
}

// --- openssl-made files --------------------------------------------------------------------

struct OpensslFiles {
    dir: tempfile::TempDir,
}

impl OpensslFiles {
    /// Writes the rcgen chain's leaf cert/key and intermediate into a temp dir.
    fn new(c: &Chain) -> OpensslFiles {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("leaf.pem"), pem(&c.leaf.der, "CERTIFICATE")).unwrap();
        std::fs::write(
            dir.path().join("inter.pem"),
            pem(&c.inter.der, "CERTIFICATE"),
        )
        .unwrap();
        std::fs::write(dir.path().join("leaf.key"), c.leaf.key.serialize_pem()).unwrap();
        OpensslFiles { dir }
    }

    fn run(&self, args: &[&str]) {
        openssl(self.dir.path(), args);
    }

    fn read(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.dir.path().join(name)).unwrap()
    }
}

fn check_p12(f: &OpensslFiles, c: &Chain, name: &str) {
    let path = f.dir.path().join(name);
    let loaded = load_file(&path, Some("s3cret")).unwrap();
    assert_eq!(loaded.format, Format::Pkcs12);
    assert_eq!(loaded.certs.first(), Some(&c.leaf.der), "leaf first");
    assert!(loaded.certs.contains(&c.inter.der));
    let key = loaded.key.expect("a key");
    assert_eq!(
        crate::certs::keymatch::public_key_of(&key).unwrap(),
        c.leaf.key.public_key_raw().to_vec()
    );

    let wrong = load_file(&path, Some("nope")).unwrap_err();
    assert!(
        matches!(wrong, CertError::WrongPassphrase { .. }),
        "{wrong:?}"
    );
    assert!(
        message(&wrong).contains(name) && message(&wrong).contains("is wrong"),
        "{wrong}"
    );

    let missing = load_file(&path, None).unwrap_err();
    assert!(
        matches!(missing, CertError::PassphraseRequired { .. }),
        "{missing:?}"
    );
    assert!(
        message(&missing).contains("no passphrase was given"),
        "{missing}"
    );
}

#[test]
fn pkcs12_modern_openssl_export() {
    let c = chain();
    let f = OpensslFiles::new(&c);
    f.run(&[
        "pkcs12",
        "-export",
        "-in",
        "leaf.pem",
        "-inkey",
        "leaf.key",
        "-certfile",
        "inter.pem",
        "-out",
        "modern.p12",
        "-passout",
        "pass:s3cret",
    ]);
    check_p12(&f, &c, "modern.p12");
}

#[test]
fn pkcs12_legacy_openssl_export() {
    let c = chain();
    let f = OpensslFiles::new(&c);
    f.run(&[
        "pkcs12",
        "-export",
        "-legacy",
        "-in",
        "leaf.pem",
        "-inkey",
        "leaf.key",
        "-certfile",
        "inter.pem",
        "-out",
        "legacy.p12",
        "-passout",
        "pass:s3cret",
    ]);
    check_p12(&f, &c, "legacy.p12");
}

#[test]
fn pkcs12_with_unsupported_legacy_cipher_says_how_to_reexport() {
    let c = chain();
    let f = OpensslFiles::new(&c);
    f.run(&[
        "pkcs12",
        "-export",
        "-legacy",
        "-certpbe",
        "PBE-SHA1-RC2-128",
        "-keypbe",
        "PBE-SHA1-RC2-128",
        "-in",
        "leaf.pem",
        "-inkey",
        "leaf.key",
        "-out",
        "rc2.p12",
        "-passout",
        "pass:s3cret",
    ]);
    let e = load("rc2.p12", &f.read("rc2.p12"), Some("s3cret")).unwrap_err();
    assert!(matches!(e, CertError::UnsupportedLegacy { .. }), "{e:?}");
    let m = message(&e);
    assert!(m.contains("\"rc2.p12\""), "{m}");
    assert!(m.contains("128-bit RC2"), "{m}");
    assert!(m.contains(P12_REEXPORT), "{m}");
}

#[test]
fn truncated_pkcs12_is_truncated() {
    let c = chain();
    let f = OpensslFiles::new(&c);
    f.run(&[
        "pkcs12", "-export", "-in", "leaf.pem", "-inkey", "leaf.key", "-out", "t.p12", "-passout",
        "pass:x",
    ]);
    let bytes = f.read("t.p12");
    let e = load("t.p12", &bytes[..bytes.len() - 40], Some("x")).unwrap_err();
    assert!(matches!(e, CertError::Truncated { .. }), "{e:?}");
}

#[test]
fn encrypted_pkcs8_right_wrong_and_missing_passphrase() {
    let c = chain();
    let f = OpensslFiles::new(&c);
    f.run(&[
        "pkcs8",
        "-topk8",
        "-in",
        "leaf.key",
        "-out",
        "enc.key",
        "-v2",
        "aes-256-cbc",
        "-passout",
        "pass:hunter2",
    ]);
    let bytes = f.read("enc.key");
    assert!(String::from_utf8_lossy(&bytes).contains("ENCRYPTED PRIVATE KEY"));

    let ok = load("enc.key", &bytes, Some("hunter2")).unwrap();
    let key = ok.key.expect("decrypted key");
    assert_eq!(key.secret_der(), c.leaf.key.serialize_der().as_slice());

    let wrong = load("enc.key", &bytes, Some("hunter3")).unwrap_err();
    assert!(
        matches!(wrong, CertError::WrongPassphrase { block: Some(1), .. }),
        "{wrong:?}"
    );
    assert!(
        message(&wrong).contains("PEM block 1 of \"enc.key\""),
        "{wrong}"
    );

    let missing = load("enc.key", &bytes, None).unwrap_err();
    assert!(
        matches!(missing, CertError::PassphraseRequired { .. }),
        "{missing:?}"
    );
    assert!(
        message(&missing).contains("encrypted private key"),
        "{missing}"
    );
}

#[test]
fn encrypted_pkcs8_in_der_form() {
    let c = chain();
    let f = OpensslFiles::new(&c);
    f.run(&[
        "pkcs8",
        "-topk8",
        "-in",
        "leaf.key",
        "-outform",
        "DER",
        "-out",
        "enc.der",
        "-passout",
        "pass:hunter2",
    ]);
    let bytes = f.read("enc.der");
    let ok = load("enc.der", &bytes, Some("hunter2")).unwrap();
    assert_eq!(ok.format, Format::Der);
    assert_eq!(
        ok.key.unwrap().secret_der(),
        c.leaf.key.serialize_der().as_slice()
    );
    let wrong = load("enc.der", &bytes, Some("x")).unwrap_err();
    assert!(
        matches!(wrong, CertError::WrongPassphrase { block: None, .. }),
        "{wrong:?}"
    );
    assert!(
        message(&wrong).starts_with("The passphrase for \"enc.der\" is wrong"),
        "{wrong}"
    );
}

/// `openssl req -newkey … -keyout` and `openssl pkcs8 -topk8 -v2 des3` write PBES2 with
/// hmacWithSHA256 and DES-EDE3-CBC: the default encrypted key of many OpenSSL 3 recipes.
#[test]
fn encrypted_pkcs8_with_pbes2_and_triple_des_opens() {
    let c = chain();
    let f = OpensslFiles::new(&c);
    f.run(&[
        "pkcs8",
        "-topk8",
        "-in",
        "leaf.key",
        "-out",
        "des3.key",
        "-v2",
        "des3",
        "-passout",
        "pass:hunter2",
    ]);
    let bytes = f.read("des3.key");
    let ok = load("des3.key", &bytes, Some("hunter2")).unwrap();
    assert_eq!(
        ok.key.expect("decrypted key").secret_der(),
        c.leaf.key.serialize_der().as_slice()
    );
    let wrong = load("des3.key", &bytes, Some("hunter3")).unwrap_err();
    assert!(
        matches!(wrong, CertError::WrongPassphrase { block: Some(1), .. }),
        "{wrong:?}"
    );
}

#[test]
fn byte_order_mark_and_crlf_are_tolerated() {
    let c = chain();
    let text = format!(
        "\u{feff}{}",
        pem(&c.leaf.der, "CERTIFICATE").replace('\n', "\r\n")
    );
    let loaded = load("bom.pem", text.as_bytes(), None).unwrap();
    assert_eq!(loaded.certs, vec![c.leaf.der.clone()]);
}

#[test]
fn encrypted_pkcs8_with_pbes1_is_unsupported_legacy() {
    let c = chain();
    let f = OpensslFiles::new(&c);
    f.run(&[
        "pkcs8",
        "-topk8",
        "-in",
        "leaf.key",
        "-out",
        "old.key",
        "-v1",
        "PBE-SHA1-3DES",
        "-passout",
        "pass:hunter2",
    ]);
    let e = load("old.key", &f.read("old.key"), Some("hunter2")).unwrap_err();
    assert!(matches!(e, CertError::UnsupportedLegacy { .. }), "{e:?}");
    assert!(message(&e).contains("triple DES"), "{e}");
}

#[test]
fn rsa_pkcs1_and_traditional_encrypted_keys() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    openssl(d, &["genrsa", "-traditional", "-out", "rsa1.key", "2048"]);
    let loaded = load(
        "rsa1.key",
        &std::fs::read(d.join("rsa1.key")).unwrap(),
        None,
    )
    .unwrap();
    assert!(matches!(loaded.key, Some(PrivateKeyDer::Pkcs1(_))));

    openssl(
        d,
        &[
            "rsa",
            "-in",
            "rsa1.key",
            "-traditional",
            "-aes256",
            "-passout",
            "pass:x",
            "-out",
            "rsa_enc.key",
        ],
    );
    let e = load(
        "rsa_enc.key",
        &std::fs::read(d.join("rsa_enc.key")).unwrap(),
        Some("x"),
    )
    .unwrap_err();
    assert!(matches!(e, CertError::UnsupportedLegacy { .. }), "{e:?}");
    assert!(message(&e).contains(KEY_REEXPORT), "{e}");

    openssl(
        d,
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-out",
            "ec.key",
        ],
    );
    let ec = load("ec.key", &std::fs::read(d.join("ec.key")).unwrap(), None).unwrap();
    assert!(matches!(ec.key, Some(PrivateKeyDer::Sec1(_))));
}
