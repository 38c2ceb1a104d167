//! The request's `Content-Encoding` as the server reads it (`http::request_coding`): any header
//! value, any Unicode, never panics; only one coding the server reads is let through.

use proptest::prelude::*;
use sync_server::http::request_coding;

#[test]
fn the_codings_the_server_reads_pass_whatever_their_case_and_others_are_named_back() {
    assert_eq!(request_coding([]), Ok(None));
    assert_eq!(request_coding([b" ZSTD ".as_slice()]), Ok(Some("zstd")));
    assert_eq!(request_coding([b"gzip".as_slice()]), Ok(Some("gzip")));
    assert_eq!(request_coding([b"identity".as_slice()]), Ok(Some("identity")));
    assert_eq!(request_coding([b"br".as_slice()]), Err("br".to_string()));
    assert_eq!(request_coding([b"gzip".as_slice(), b"zstd".as_slice()]), Err("gzip, zstd".to_string()));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_content_encoding_is_read_without_panic(values in proptest::collection::vec(any::<String>(), 0..4)) {
        let bytes: Vec<&[u8]> = values.iter().map(String::as_bytes).collect();
        match request_coding(bytes.iter().copied()) {
            Ok(None) => prop_assert!(values.is_empty()),
            Ok(Some(name)) => {
                prop_assert_eq!(values.len(), 1);
                prop_assert_eq!(values[0].trim().to_ascii_lowercase(), name);
            }
            Err(shown) => prop_assert!(shown.chars().count() <= 64),
        }
    }

    #[test]
    fn a_huge_content_encoding_is_named_back_cut_short(junk in "[0-9０-９😀é\\u{301}a-z]{1,40}", times in 1usize..20_000) {
        let huge = junk.repeat(times);
        let shown = request_coding([huge.as_bytes()]).expect_err("not a coding");
        prop_assert!(shown.chars().count() <= 64);
    }
}
