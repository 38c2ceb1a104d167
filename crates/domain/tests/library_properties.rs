//! The resource library's and the activities' parsers over any input: amounts of money typed in
//! yuan and the activities page's month never panic, and what they accept reads back the same.

use domain::activity::{month_text, parse_month};
use domain::money::{MAX_FEN, format_fen, parse_yuan};
use proptest::prelude::*;

proptest! {
    #[test]
    fn any_text_is_an_amount_or_a_refusal_never_a_panic(text in "\\PC{0,40}") {
        if let Ok(fen) = parse_yuan(&text, MAX_FEN) {
            prop_assert!((0..=MAX_FEN).contains(&fen));
        }
    }

    #[test]
    fn amount_like_text_is_an_amount_or_a_refusal(text in "[0-9０-９.,，¥￥元 -]{0,24}") {
        if let Ok(fen) = parse_yuan(&text, MAX_FEN) {
            prop_assert_eq!(parse_yuan(&format_fen(fen), MAX_FEN), Ok(fen));
        }
    }

    #[test]
    fn every_amount_in_range_reads_back_from_its_text(fen in 0..=MAX_FEN) {
        prop_assert_eq!(parse_yuan(&format_fen(fen), MAX_FEN), Ok(fen));
    }

    #[test]
    fn any_text_is_a_month_or_none_never_a_panic(text in "\\PC{0,12}") {
        if let Some(first_day) = parse_month(&text) {
            prop_assert_eq!(parse_month(&month_text(first_day)), Some(first_day));
        }
    }

    #[test]
    fn month_like_text_reads_back_the_same(text in "[0-9]{4}-[0-9]{2}") {
        if let Some(first_day) = parse_month(&text) {
            prop_assert_eq!(month_text(first_day), text);
        }
    }
}
