use proptest::prelude::*;

use super::*;

fn decoded(bytes: &[u8]) -> (FrameHeader, usize) {
    match decode_header(bytes) {
        Ok(Some(d)) => d,
        other => panic!("expected a header, got {other:?}"),
    }
}

fn naive_mask(data: &[u8], key: [u8; 4], offset: usize) -> Vec<u8> {
    data.iter()
        .enumerate()
        .map(|(i, b)| b ^ key[(offset + i) % 4])
        .collect()
}

#[test]
fn opcodes_round_trip_through_their_nibble() {
    for n in 0u8..16 {
        let op = OpCode::from_nibble(n);
        assert_eq!(op.as_u8(), n);
        assert_eq!(u8::from(op), n);
        assert_eq!(op.is_control(), n >= 8, "{n:#x}");
        assert_eq!(op.is_reserved(), matches!(n, 3..=7 | 0xB..=0xF), "{n:#x}");
    }
    assert_eq!(OpCode::from_nibble(0x81), OpCode::Text);
}

/// RFC 6455 §5.7 examples, byte for byte, both ways.
#[test]
fn rfc_6455_5_7_examples() {
    let hello = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
    assert_eq!(encode_frame(true, OpCode::Text, None, b"Hello"), hello);
    let masked = [
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    let key = [0x37, 0xfa, 0x21, 0x3d];
    assert_eq!(
        encode_frame(true, OpCode::Text, Some(key), b"Hello"),
        masked
    );
    let (h, n) = decoded(&masked);
    assert_eq!(
        h,
        FrameHeader {
            fin: true,
            rsv: 0,
            opcode: OpCode::Text,
            mask: Some(key),
            payload_len: 5
        }
    );
    assert_eq!(n, 6);
    let mut payload = masked[n..].to_vec();
    apply_mask(&mut payload, key);
    assert_eq!(payload, b"Hello");

    assert_eq!(
        encode_frame(false, OpCode::Text, None, b"Hel"),
        [0x01, 0x03, 0x48, 0x65, 0x6c]
    );
    assert_eq!(
        encode_frame(true, OpCode::Continuation, None, b"lo"),
        [0x80, 0x02, 0x6c, 0x6f]
    );
    assert_eq!(
        encode_frame(true, OpCode::Ping, None, b"Hello"),
        [0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f]
    );
    assert_eq!(
        encode_frame(true, OpCode::Pong, Some(key), b"Hello"),
        [
            0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58
        ]
    );
    let big = encode_frame(true, OpCode::Binary, None, &[0u8; 256]);
    assert_eq!(big[..4], [0x82, 0x7E, 0x01, 0x00]);
    let huge = encode_frame(true, OpCode::Binary, None, &vec![0u8; 65536]);
    assert_eq!(
        huge[..10],
        [0x82, 0x7F, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00]
    );
}

#[test]
fn req_6455_5_2_c_shortest_length_encoding() {
    // (payload length, header bytes, 7-bit field)
    for (len, header, len7) in [
        (0usize, 2usize, 0u8),
        (125, 2, 125),
        (126, 4, 126),
        (65535, 4, 126),
        (65536, 10, 127),
    ] {
        let payload = vec![0xA5; len];
        let frame = encode_frame(true, OpCode::Binary, None, &payload);
        assert_eq!(frame.len(), header + len, "len {len}");
        assert_eq!(frame[1] & 0x7F, len7, "len {len}");
        assert_eq!(shortest_header_len(false, len as u64), header);
        let (h, n) = decoded(&frame);
        assert_eq!((h.payload_len, n), (len as u64, header));
        // Masked: 4 more header bytes, same length form.
        let masked = encode_frame(true, OpCode::Binary, Some([1, 2, 3, 4]), &payload);
        assert_eq!(masked.len(), header + 4 + len);
        assert_eq!(masked[1], 0x80 | len7);
        assert_eq!(shortest_header_len(true, len as u64), header + 4);
    }
    // The 64-bit form of 65536 has its most significant bit clear.
    let frame = encode_frame(true, OpCode::Binary, None, &vec![0; 65536]);
    assert_eq!(frame[2] & 0x80, 0);
}

#[test]
fn req_6455_5_2_c_length_with_msb_set_is_an_error() {
    let mut bytes = vec![0x82, 0x7F];
    bytes.extend_from_slice(&(1u64 << 63).to_be_bytes());
    let err = decode_header(&bytes).unwrap_err();
    assert_eq!(err, FrameError::LengthMsbSet { len: 1 << 63 });
    assert_eq!(err.requirement(), "6455-5.2-c");
    assert!(err.to_string().contains("most significant bit"), "{err}");
    // 2^63 - 1 is representable.
    let mut bytes = vec![0x82, 0x7F];
    bytes.extend_from_slice(&(u64::MAX >> 1).to_be_bytes());
    assert_eq!(decoded(&bytes).0.payload_len, u64::MAX >> 1);
}

/// Decision: non-minimal length forms are accepted on receive (RFC 6455 §5.2 binds senders;
/// receiver reaction UNCONFIRMED); the decoded value is what counts, and the header size
/// shows the form used.
#[test]
fn non_minimal_length_is_accepted_and_detectable() {
    let sixteen = [0x81, 0x7E, 0x00, 0x05];
    let (h, n) = decoded(&sixteen);
    assert_eq!((h.payload_len, n), (5, 4));
    assert_ne!(n, shortest_header_len(false, h.payload_len));
    let mut sixty_four = vec![0x81, 0xFF];
    sixty_four.extend_from_slice(&5u64.to_be_bytes());
    sixty_four.extend_from_slice(&[9, 8, 7, 6]);
    let (h, n) = decoded(&sixty_four);
    assert_eq!((h.payload_len, n, h.mask), (5, 14, Some([9, 8, 7, 6])));
    assert_ne!(n, shortest_header_len(true, h.payload_len));
}

#[test]
fn header_fields_decode() {
    // FIN=0, RSV1 and RSV3, opcode 0xB, masked, 7-bit length 3.
    let bytes = [0x5B, 0x83, 1, 2, 3, 4];
    let (h, n) = decoded(&bytes);
    assert_eq!(
        h,
        FrameHeader {
            fin: false,
            rsv: 0b101,
            opcode: OpCode::Reserved(0xB),
            mask: Some([1, 2, 3, 4]),
            payload_len: 3
        }
    );
    assert_eq!(n, 6);
    let p = FramePrefix::decode(0x5B, 0x83);
    assert_eq!((p.fin, p.rsv, p.masked, p.len7), (false, 0b101, true, 3));
}

#[test]
fn truncated_headers_need_more_bytes() {
    let mut long = vec![0x82, 0xFF];
    long.extend_from_slice(&70000u64.to_be_bytes());
    long.extend_from_slice(&[1, 2, 3, 4]);
    for full in [
        vec![0x81, 0x05],
        vec![0x81, 0x85, 1, 2, 3, 4],
        vec![0x82, 0x7E, 0x01, 0x00],
        long,
    ] {
        for cut in 0..full.len() {
            assert_eq!(decode_header(&full[..cut]), Ok(None), "{full:?} cut {cut}");
        }
        let (_, n) = decoded(&full);
        assert_eq!(n, full.len());
    }
}

#[test]
fn apply_mask_is_its_own_inverse_at_every_offset() {
    let key = [0xDE, 0xAD, 0xBE, 0xEF];
    let data: Vec<u8> = (0..=40).collect();
    for offset in 0..8 {
        for len in 0..data.len() {
            let mut d = data[..len].to_vec();
            apply_mask_at(&mut d, key, offset);
            assert_eq!(d, naive_mask(&data[..len], key, offset));
            apply_mask_at(&mut d, key, offset);
            assert_eq!(d, data[..len]);
        }
    }
}

proptest! {
    #[test]
    fn apply_mask_matches_the_rfc_definition(
        data in proptest::collection::vec(any::<u8>(), 0..300),
        key in any::<[u8; 4]>(),
        offset in 0usize..1000,
    ) {
        let mut d = data.clone();
        apply_mask_at(&mut d, key, offset);
        prop_assert_eq!(d, naive_mask(&data, key, offset));
    }

    #[test]
    fn masking_in_pieces_equals_masking_at_once(
        data in proptest::collection::vec(any::<u8>(), 0..300),
        key in any::<[u8; 4]>(),
        cut in any::<prop::sample::Index>(),
    ) {
        let cut = cut.index(data.len() + 1);
        let mut whole = data.clone();
        apply_mask(&mut whole, key);
        let mut pieces = data.clone();
        let (a, b) = pieces.split_at_mut(cut);
        apply_mask_at(a, key, 0);
        apply_mask_at(b, key, cut);
        prop_assert_eq!(whole, pieces);
    }

    #[test]
    fn encode_then_decode_round_trips(
        fin in any::<bool>(),
        op in 0u8..16,
        mask in any::<Option<[u8; 4]>>(),
        len in prop_oneof![0usize..300, 65530usize..65545],
        seed in any::<u8>(),
    ) {
        let payload: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(31) ^ seed).collect();
        let opcode = OpCode::from_nibble(op);
        let bytes = encode_frame(fin, opcode, mask, &payload);
        let (h, n) = decode_header(&bytes).unwrap().unwrap();
        prop_assert_eq!(h, FrameHeader { fin, rsv: 0, opcode, mask, payload_len: payload.len() as u64 });
        prop_assert_eq!(n, shortest_header_len(mask.is_some(), payload.len() as u64));
        let mut body = bytes[n..].to_vec();
        if let Some(key) = mask {
            apply_mask(&mut body, key);
        }
        prop_assert_eq!(body, payload);
    }

    #[test]
    fn decode_header_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..20)) {
        if let Ok(Some((h, n))) = decode_header(&bytes) {
            prop_assert!(n <= bytes.len() && n <= MAX_HEADER_LEN);
            prop_assert_eq!(h.mask.is_some(), bytes[1] & 0x80 != 0);
        }
    }
}
