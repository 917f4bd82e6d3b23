//! Identifiers made from injected randomness: tags, Call-IDs, branches, the `.invalid` host
//! and the `+sip.instance` UUID. The core never draws randomness itself (it is sans-IO);
//! the caller passes a source, usually [`SplitMix64`] seeded from the OS by the shell, or a
//! closure over a cryptographic generator.

/// Lower-case letters and digits: valid in a `token`, a `word` (Call-ID) and a host label.
const ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";
/// Base-36 digits one `u64` yields without bias worth mentioning (36^12 < 2^64).
const DIGITS_PER_DRAW: usize = 12;

/// `len` characters from `[a-z0-9]`. RFC 3261 §19.3 wants at least 32 random bits in a tag;
/// 10 characters carry about 51.
pub fn token(random: &mut impl FnMut() -> u64, len: usize) -> String {
    let mut s = String::with_capacity(len);
    while s.len() < len {
        let mut x = random();
        for _ in 0..DIGITS_PER_DRAW.min(len - s.len()) {
            s.push(char::from(ALPHABET[(x % 36) as usize]));
            x /= 36;
        }
    }
    s
}

/// An RFC 3261 branch: the magic cookie `z9hG4bK` (§8.1.1.7) and a random token.
pub fn branch(random: &mut impl FnMut() -> u64) -> String {
    format!("{}{}", crate::sip::via::BRANCH_COOKIE, token(random, 12))
}

/// A random host under the `.invalid` TLD (RFC 2606), as RFC 7118 Appendix B.1 suggests for
/// the Via sent-by and Contact host of a client that has no reachable address
/// (`df7jal23ls0d.invalid` in RFC 7118 §8.1 F3).
pub fn invalid_host(random: &mut impl FnMut() -> u64) -> String {
    format!("{}.invalid", token(random, 12))
}

/// A version 4 (random) UUID string, RFC 4122 §4.4: 122 random bits, version nibble `4`,
/// variant bits `10`.
pub fn uuid_v4(random: &mut impl FnMut() -> u64) -> String {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&random().to_be_bytes());
    b[8..].copy_from_slice(&random().to_be_bytes());
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// The `+sip.instance` URN of a new UA instance: `urn:uuid:` + a v4 UUID (RFC 5626 §4.1
/// prefers a UUID URN). Generate it once and persist it across restarts (RFC 7118
/// Appendix B.1, 7118-B.1-b; 5626-4.1-a): the caller stores it and puts it in every
/// [`super::UaConfig`] of this instance.
pub fn instance_urn(random: &mut impl FnMut() -> u64) -> String {
    format!("urn:uuid:{}", uuid_v4(random))
}

/// SplitMix64 (Steele, Lea, Flood 2014): a tiny deterministic generator, so a seed is enough
/// to drive the UA. It is not cryptographic; a shell that wants unguessable tags seeds it
/// from the OS or passes a closure over `ring::rand::SystemRandom` instead.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// The generator as the `FnMut() -> u64` source [`super::Ua::new`] takes.
    pub fn into_source(mut self) -> impl FnMut() -> u64 + Send + 'static {
        move || self.next_u64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sip::Host;

    fn fixed() -> impl FnMut() -> u64 {
        SplitMix64::new(7).into_source()
    }

    #[test]
    fn tokens_have_the_asked_length_and_alphabet() {
        let mut r = fixed();
        for len in [0, 1, 10, 12, 13, 40] {
            let t = token(&mut r, len);
            assert_eq!(t.len(), len);
            assert!(t.bytes().all(|b| ALPHABET.contains(&b)), "{t}");
        }
        assert_ne!(token(&mut r, 10), token(&mut r, 10));
    }

    #[test]
    fn req_7118_b_1_a_invalid_host_is_a_valid_host_under_invalid() {
        let mut r = fixed();
        let h = invalid_host(&mut r);
        let host = Host::parse(&h).expect("a host name");
        assert!(host.is_invalid_tld(), "{h}");
        assert_eq!(h.len(), "df7jal23ls0d.invalid".len());
    }

    #[test]
    fn req_5626_4_1_a_instance_is_a_uuid_v4_urn() {
        let mut r = fixed();
        let urn = instance_urn(&mut r);
        let uuid = urn.strip_prefix("urn:uuid:").expect("urn:uuid: prefix");
        let groups: Vec<&str> = uuid.split('-').collect();
        assert_eq!(
            groups.iter().map(|g| g.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(uuid.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit()));
        assert!(groups[2].starts_with('4'), "version 4: {uuid}");
        assert!(
            matches!(groups[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'),
            "variant 10: {uuid}"
        );
        // Same randomness, same URN: the caller can reproduce or persist it.
        assert_eq!(instance_urn(&mut fixed()), urn);
        assert_ne!(instance_urn(&mut r), urn);
    }

    #[test]
    fn branches_carry_the_magic_cookie() {
        let b = branch(&mut fixed());
        assert!(b.starts_with("z9hG4bK") && b.len() == 19, "{b}");
    }

    #[test]
    fn splitmix_is_deterministic() {
        let mut a = SplitMix64::new(1);
        let mut b = SplitMix64::new(1);
        assert_eq!(a.next_u64(), b.next_u64());
        assert_ne!(a.next_u64(), SplitMix64::new(2).next_u64());
    }
}
