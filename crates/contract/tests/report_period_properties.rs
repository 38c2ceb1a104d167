//! The report period's parser over any text: it answers (a period or an error) and never panics
//! (it also runs in the UI's wasm), and every period it reads prints back as itself.

use contract::ReportPeriod;
use proptest::prelude::*;

proptest! {
    #[test]
    fn any_text_is_read_or_refused_without_a_panic(text in "\\PC*") {
        if let Ok(period) = ReportPeriod::parse(&text) {
            prop_assert_eq!(ReportPeriod::parse(&period.to_string()), Ok(period));
            prop_assert!(period.bounds().is_ok());
        }
    }

    #[test]
    fn period_like_text_is_read_or_refused_without_a_panic(text in "[0-9]{0,5}(-[Qq]?[0-9]{0,3})?[ ]?") {
        if let Ok(period) = ReportPeriod::parse(&text) {
            let (from, to) = period.bounds().expect("a period read has bounds");
            prop_assert!(from <= to);
            prop_assert_eq!(ReportPeriod::parse(&period.to_string()), Ok(period));
        }
    }

    #[test]
    fn every_month_quarter_and_year_round_trips(year in 2000i32..=2100, month in 1u32..=12) {
        for period in [
            ReportPeriod::Month { year, month },
            ReportPeriod::Quarter { year, quarter: (month - 1) / 3 + 1 },
            ReportPeriod::Year { year },
        ] {
            prop_assert_eq!(ReportPeriod::parse(&period.to_string()), Ok(period));
        }
    }

    #[test]
    fn numbers_out_of_range_never_panic(year in any::<i32>(), n in any::<u32>()) {
        for period in [
            ReportPeriod::Month { year, month: n },
            ReportPeriod::Quarter { year, quarter: n },
            ReportPeriod::Year { year },
        ] {
            let _ = period.bounds();
            let _ = period.label();
            let _ = period.to_string();
        }
    }
}
