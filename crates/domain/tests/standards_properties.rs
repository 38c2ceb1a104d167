//! The standards' evaluation never panics and never contradicts itself, whatever the records
//! hold (any dates, any durations, any mix) and whatever day it is asked on; the vocabularies'
//! parsers take any Unicode. The evaluation also runs in the UI's wasm, where a panic kills the
//! app.

use chrono::NaiveDate;
use domain::Labelled;
use domain::standards::{self, Facts, SessionFact, StandardSet, Standing, TrainingFact, WorkFact};
use domain::workforce::{Qualification, SupervisionMode, TrainingKind, WorkKind};
use proptest::prelude::*;

fn any_day() -> impl Strategy<Value = NaiveDate> {
    prop_oneof![
        (-400_000i32..400_000).prop_map(|n| NaiveDate::from_num_days_from_ce_opt(n).unwrap_or(NaiveDate::MIN)),
        Just(NaiveDate::MIN),
        Just(NaiveDate::MAX),
        (2020i32..2030, 1u32..=12, 1u32..=31)
            .prop_map(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)),
    ]
}

fn pick<T: Labelled>(i: usize) -> T {
    T::ALL[i % T::ALL.len()]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn every_rule_evaluates_any_records_on_any_day(
        today in any_day(),
        sessions in prop::collection::vec((any_day(), any::<u32>(), any::<usize>()), 0..6),
        training in prop::collection::vec((any_day(), any::<u32>(), any::<usize>()), 0..6),
        work in prop::collection::vec((any_day(), any::<u32>(), any::<usize>()), 0..6),
    ) {
        let sessions: Vec<SessionFact> =
            sessions.into_iter().map(|(held_on, minutes, m)| SessionFact { held_on, minutes, mode: pick::<SupervisionMode>(m) }).collect();
        let training: Vec<TrainingFact> =
            training.into_iter().map(|(trained_on, minutes, k)| TrainingFact { trained_on, minutes, kind: pick::<TrainingKind>(k) }).collect();
        let work: Vec<WorkFact> =
            work.into_iter().map(|(worked_on, minutes, k)| WorkFact { worked_on, minutes, kind: pick::<WorkKind>(k) }).collect();
        let facts = Facts { sessions: &sessions, training: &training, work: &work };
        for set in StandardSet::ALL {
            for rule in standards::rules(*set) {
                let evaluation = standards::check(rule, &facts, today);
                prop_assert!(evaluation.due_by_now <= evaluation.required);
                if evaluation.standing == Standing::Met {
                    prop_assert!(evaluation.achieved >= evaluation.required);
                }
                if evaluation.achieved < evaluation.due_by_now {
                    prop_assert_eq!(evaluation.standing, Standing::Behind);
                }
            }
        }
    }

    #[test]
    fn the_vocabularies_parse_any_text_without_panicking(text in any::<String>()) {
        let parsed = StandardSet::parse(&text).map(|s| s.as_str());
        prop_assert!(parsed.is_none() || parsed == Some(text.as_str()));
        let _ = (WorkKind::parse(&text), TrainingKind::parse(&text), Qualification::parse(&text), SupervisionMode::parse(&text));
    }
}
