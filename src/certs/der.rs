//! A tiny, total DER reader: just enough to sniff what a blob of bytes is and to take keys apart
//! without trusting the input. Every function returns `None`/`Err` instead of panicking.

pub const SEQUENCE: u8 = 0x30;
pub const INTEGER: u8 = 0x02;
pub const BIT_STRING: u8 = 0x03;
pub const OCTET_STRING: u8 = 0x04;
pub const OID: u8 = 0x06;

/// One element: its tag, its contents, and the whole encoding (header + contents).
#[derive(Debug, Clone, Copy)]
pub struct Tlv<'a> {
    pub tag: u8,
    pub content: &'a [u8],
    pub whole: &'a [u8],
}

/// Why an element could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DerErr {
    /// The header promises more bytes than there are.
    Truncated { wanted: usize, have: usize },
    /// Not DER at all (bad length encoding, multi-byte tags, indefinite length).
    Malformed,
}

/// Reads one element from the front of `input`, returning it and the rest.
pub fn read(input: &[u8]) -> Result<(Tlv<'_>, &[u8]), DerErr> {
    let (&tag, after_tag) = input
        .split_first()
        .ok_or(DerErr::Truncated { wanted: 2, have: 0 })?;
    if tag & 0x1f == 0x1f {
        return Err(DerErr::Malformed);
    }
    let (&first, after_len) = after_tag.split_first().ok_or(DerErr::Truncated {
        wanted: 2,
        have: input.len(),
    })?;
    let (len, header_rest) = if first < 0x80 {
        (usize::from(first), after_len)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return Err(DerErr::Malformed);
        }
        let bytes = after_len.get(..n).ok_or(DerErr::Truncated {
            wanted: 2 + n,
            have: input.len(),
        })?;
        let len = bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, after_len.get(n..).unwrap_or_default())
    };
    let header_len = input.len() - header_rest.len();
    let content = header_rest.get(..len).ok_or(DerErr::Truncated {
        wanted: header_len.saturating_add(len),
        have: input.len(),
    })?;
    let whole = input.get(..header_len + len).ok_or(DerErr::Malformed)?;
    let rest = header_rest.get(len..).unwrap_or_default();
    Ok((
        Tlv {
            tag,
            content,
            whole,
        },
        rest,
    ))
}

/// All elements inside a constructed value, or `None` if any is malformed.
pub fn children(content: &[u8]) -> Option<Vec<Tlv<'_>>> {
    let mut out = Vec::new();
    let mut rest = content;
    while !rest.is_empty() {
        let (tlv, r) = read(rest).ok()?;
        out.push(tlv);
        rest = r;
    }
    Some(out)
}

/// The small non-negative value of an INTEGER, if it fits.
pub fn small_int(tlv: &Tlv<'_>) -> Option<u64> {
    if tlv.tag != INTEGER || tlv.content.is_empty() || tlv.content.len() > 8 {
        return None;
    }
    if tlv.content[0] & 0x80 != 0 {
        return None;
    }
    Some(
        tlv.content
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)),
    )
}

/// Encodes a length in DER.
fn encode_len(len: usize, out: &mut Vec<u8>) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        let significant = &bytes[skip..];
        out.push(0x80 | significant.len() as u8);
        out.extend_from_slice(significant);
    }
}

/// Encodes one element.
pub fn encode(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    encode_len(content.len(), &mut out);
    out.extend_from_slice(content);
    out
}

/// Decodes the content of an OBJECT IDENTIFIER into dotted form.
pub fn oid_string(content: &[u8]) -> Option<String> {
    let (&first, rest) = content.split_first()?;
    let mut parts = vec![u64::from(first / 40).min(2), 0];
    parts[1] = u64::from(first) - parts[0] * 40;
    let mut acc: u64 = 0;
    for &b in rest {
        acc = acc.checked_mul(128)? | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            parts.push(acc);
            acc = 0;
        }
    }
    Some(
        parts
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join("."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_short_and_long_lengths() {
        let short = [0x04, 0x02, 0xaa, 0xbb, 0xff];
        let (tlv, rest) = read(&short).unwrap();
        assert_eq!(tlv.content, &[0xaa, 0xbb]);
        assert_eq!(rest, &[0xff]);
        let mut long = vec![0x30, 0x81, 0x80];
        long.extend(std::iter::repeat_n(0u8, 0x80));
        let (tlv, _) = read(&long).unwrap();
        assert_eq!(tlv.content.len(), 0x80);
        assert_eq!(encode(0x30, tlv.content), long);
    }

    #[test]
    fn truncation_is_reported_not_panicked() {
        assert_eq!(
            read(&[0x30, 0x82, 0x01, 0x00, 0x01]).unwrap_err(),
            DerErr::Truncated {
                wanted: 260,
                have: 5
            }
        );
        assert!(read(&[0x30]).is_err());
        assert!(read(&[0x30, 0x85, 1, 1, 1, 1, 1]).is_err());
    }

    #[test]
    fn decodes_oids() {
        // 1.2.840.113549.1.1.11
        let c = [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
        assert_eq!(oid_string(&c).unwrap(), "1.2.840.113549.1.1.11");
    }
}
