//! What both files show: the service ledger (台账: visits, cases and their records, referrals,
//! newest first, a corrected visit marked and linked to its correction) and the change history
//! (who changed what, when in local time, on which device, and whether it has reached the
//! server).
//!
//! Ids: `#ledger` (rows `#ledger-<id>`), `#history` (items `.history-item`).

use contract::{FieldChange, HistoryItem, HistoryStatus, Language, LedgerItem};
use domain::Labelled;
use domain::change::Op;
use domain::entity::{EntityKind, FieldSpec, FieldType};
use serde_json::Value;
use uuid::Uuid;
use yew::prelude::*;

use crate::app::use_app;
use crate::focus::focus_soon;
use crate::i18n::{Text, label, vocabulary_label};
use crate::route::Route;
use crate::time::local_date_time;

/// The last eight characters of an id: enough to tell devices (or records) apart on screen (the
/// first ones of a UUIDv7 are its time, shared by ids made the same day).
pub fn short_id(id: Uuid) -> String {
    let hex = id.simple().to_string();
    hex[hex.len().saturating_sub(8)..].to_string()
}

/// What a ledger line is, beyond its kind: a visit later corrected, or the correction of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Correction {
    None,
    /// Kept, marked as corrected by this later visit.
    CorrectedBy(Uuid),
    /// Corrects this earlier visit.
    Corrects(Uuid),
}

impl Correction {
    /// A corrected visit shows as corrected even when it is itself a correction (corrected again).
    pub fn of(corrected_by: Option<Uuid>, amends: Option<Uuid>) -> Correction {
        match (corrected_by, amends) {
            (Some(later), _) => Correction::CorrectedBy(later),
            (None, Some(earlier)) => Correction::Corrects(earlier),
            (None, None) => Correction::None,
        }
    }
}

/// The id of a ledger row, which the jumps between a visit and its correction focus.
pub fn ledger_row_id(id: Uuid) -> String {
    format!("ledger-{id}")
}

#[derive(Properties, PartialEq)]
pub struct LedgerProps {
    pub items: Vec<LedgerItem>,
    /// Whether to show whose line each is (a household's ledger gathers its members').
    #[prop_or_default]
    pub show_member: bool,
}

#[function_component(Ledger)]
pub fn ledger(props: &LedgerProps) -> Html {
    let language = use_app().language;
    let title = html! { <h2 id="ledger-title">{ Text::Ledger.get(language) }</h2> };
    if props.items.is_empty() {
        return html! {
            <section class="file-section" aria-labelledby="ledger-title">
                { title }
                <p id="ledger" class="muted">{ Text::NoLedger.get(language) }</p>
            </section>
        };
    }
    let jump = |to: Uuid, text: Text| {
        let onclick = Callback::from(move |_: MouseEvent| focus_soon(ledger_row_id(to)));
        html! { <button type="button" class="link" {onclick}>{ text.get(language) }</button> }
    };
    let rows = props.items.iter().map(|item| {
        let correction = Correction::of(item.corrected_by, item.amends);
        let mark = match correction {
            Correction::None => html! {},
            Correction::CorrectedBy(later) => html! {
                <><span class="tag corrected">{ Text::Corrected.get(language) }</span>{ jump(later, Text::SeeCorrection) }</>
            },
            Correction::Corrects(earlier) => html! {
                <><span class="tag correction">{ Text::CorrectionOf.get(language) }</span>{ jump(earlier, Text::SeeOriginal) }</>
            },
        };
        let summary = match item.case_id {
            Some(case_id) => html! {
                <a class="case-link" href={Route::Case { id: case_id }.to_hash()}>{ ledger_summary(item.kind, &item.summary, language) }</a>
            },
            None => html! { { ledger_summary(item.kind, &item.summary, language) } },
        };
        let member = props.show_member.then(|| {
            html! {
                <td><a href={Route::Recipient { id: item.recipient_id }.to_hash()}>{ &item.recipient_name }</a></td>
            }
        });
        let class = classes!("ledger-row", matches!(correction, Correction::CorrectedBy(_)).then_some("is-corrected"));
        html! {
            <tr id={ledger_row_id(item.id)} {class} tabindex="-1" data-kind={item.kind.as_str()}>
                <td class="nowrap">{ item.date.to_string() }</td>
                <td class="nowrap">{ label(item.kind, language) }</td>
                { member.unwrap_or_default() }
                <td class="summary">{ summary }{ " " }{ mark }</td>
                <td>{ item.author_name.clone().unwrap_or_default() }</td>
            </tr>
        }
    });
    html! {
        <section class="file-section" aria-labelledby="ledger-title">
            { title }
            <table id="ledger" class="roster ledger">
                <thead>
                    <tr>
                        <th scope="col">{ Text::ColumnDate.get(language) }</th>
                        <th scope="col">{ Text::ColumnKind.get(language) }</th>
                        if props.show_member { <th scope="col">{ Text::ColumnMember.get(language) }</th> }
                        <th scope="col">{ Text::ColumnSummary.get(language) }</th>
                        <th scope="col">{ Text::ColumnAuthor.get(language) }</th>
                    </tr>
                </thead>
                <tbody>{ for rows }</tbody>
            </table>
        </section>
    }
}

/// A ledger line's summary in words: the store gives some as vocabulary names (a case's stage, a
/// screening's source when it has no notes, a closure decision before its comments).
pub fn ledger_summary(kind: EntityKind, summary: &str, language: Language) -> String {
    use domain::case::{ClosureDecisionKind, ScreeningSource, Stage};
    let word = match kind {
        EntityKind::Case => Stage::parse(summary).map(|stage| label(stage, language).to_string()),
        EntityKind::Screening => ScreeningSource::parse(summary).map(|source| label(source, language).to_string()),
        EntityKind::ClosureDecision => {
            let (decision, comments) = summary.split_once(": ").map_or((summary, None), |(d, c)| (d, Some(c)));
            let colon = match language {
                Language::Zh => "：",
                Language::En => ": ",
            };
            ClosureDecisionKind::parse(decision).map(|decision| match comments {
                Some(comments) => format!("{}{colon}{comments}", label(decision, language)),
                None => label(decision, language).to_string(),
            })
        }
        _ => None,
    };
    summary_text(&word.unwrap_or_else(|| summary.to_string()))
}

/// A summary as shown in a table cell: long texts cut at 300 characters (the record keeps them
/// whole).
pub fn summary_text(text: &str) -> String {
    const SHOWN: usize = 300;
    match text.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

#[derive(Properties, PartialEq)]
pub struct HistoryProps {
    pub items: Vec<HistoryItem>,
    /// The record's kind, for the labels of vocabulary values (a category, a relation).
    pub kind: EntityKind,
    /// Names of villages (and other records) an edit may name by id.
    #[prop_or_default]
    pub names: Vec<(Uuid, String)>,
}

#[function_component(History)]
pub fn history(props: &HistoryProps) -> Html {
    let language = use_app().language;
    let title = html! { <h2 id="history-title">{ Text::History.get(language) }</h2> };
    if props.items.is_empty() {
        return html! {
            <section class="file-section" aria-labelledby="history-title">
                { title }
                <p id="history" class="muted">{ Text::NoHistory.get(language) }</p>
            </section>
        };
    }
    let name_of = |id: Uuid| props.names.iter().find(|(known, _)| *known == id).map(|(_, name)| name.clone());
    // Newest first, as the ledger.
    let items = props.items.iter().rev().map(|item| {
        let op = match item.op {
            Op::Create => Text::HistoryCreated,
            Op::Update => Text::HistoryEdited,
        };
        let status = match item.status {
            HistoryStatus::Pending => Text::StatusPending,
            HistoryStatus::Accepted => Text::StatusAccepted,
            HistoryStatus::Synced => Text::StatusSynced,
        };
        let author = item.author_name.clone().unwrap_or_else(|| short_id(item.author_id));
        let changes = item.fields.iter().map(|change| {
            html! {
                <li>
                    <span class="field-name">{ change_label(change, language) }</span>{ crate::pages::recipient_file::colon(language) }
                    <span class="field-value">{ shown_value(props.kind.spec().field(&change.field), &change.value, language, &name_of) }</span>
                </li>
            }
        });
        html! {
            <li class="history-item">
                <div class="history-head">
                    <time datetime={item.at.to_rfc3339()}>{ local_date_time(item.at, language) }</time>
                    <span class="history-op">{ op.get(language) }</span>
                    <span class="history-author">{ author }</span>
                    <span class="muted" title={item.device_id.to_string()}>
                        { format!("{} {}", Text::Device.get(language), short_id(item.device_id)) }
                    </span>
                    <span class={classes!("history-status", format!("status-{}", status_class(item.status)))}>
                        { status.get(language) }
                    </span>
                </div>
                <ul class="history-fields">{ for changes }</ul>
            </li>
        }
    });
    html! {
        <section class="file-section" aria-labelledby="history-title">
            { title }
            <ol id="history" class="history">{ for items }</ol>
        </section>
    }
}

fn status_class(status: HistoryStatus) -> &'static str {
    match status {
        HistoryStatus::Pending => "pending",
        HistoryStatus::Accepted => "accepted",
        HistoryStatus::Synced => "synced",
    }
}

fn change_label(change: &FieldChange, language: Language) -> String {
    match language {
        Language::Zh => change.label_zh.clone(),
        Language::En => contract::sentence(&change.label_en),
    }
}

/// A value an edit wrote, as the history shows it: vocabulary values by their labels, records by
/// their names (or a short id), yes/no, and a cleared field as such. Any JSON shows as something.
pub fn shown_value(
    spec: Option<&FieldSpec>,
    value: &Value,
    language: Language,
    name_of: &dyn Fn(Uuid) -> Option<String>,
) -> String {
    let ty = spec.map(|s| s.ty);
    let one = |text: &str| -> String {
        match ty {
            Some(FieldType::Enum(names) | FieldType::EnumSet(names)) => {
                vocabulary_label(names, text, language).map_or_else(|| text.to_string(), str::to_string)
            }
            Some(FieldType::Ref(_) | FieldType::RefList(_)) => match Uuid::try_parse(text) {
                Ok(id) => name_of(id).unwrap_or_else(|| short_id(id)),
                Err(_) => text.to_string(),
            },
            _ => text.to_string(),
        }
    };
    match value {
        Value::Null => Text::ValueCleared.get(language).to_string(),
        Value::Bool(true) => Text::Yes.get(language).to_string(),
        Value::Bool(false) => Text::No.get(language).to_string(),
        Value::String(text) => summary_text(&one(text)),
        Value::Array(items) if items.is_empty() => Text::ValueCleared.get(language).to_string(),
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(|v| v.as_str().map_or_else(|| v.to_string(), &one)).collect();
            let separator = match language {
                Language::Zh => "、",
                Language::En => ", ",
            };
            parts.join(separator)
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use domain::entity::RECIPIENT;
    use domain::field::recipient;
    use serde_json::json;

    use super::*;

    const VILLAGE: &str = "0190e3a1-7f5c-7c3e-9a4b-1f2e3d4c5b6a";

    fn names(id: Uuid) -> Option<String> {
        (id.to_string() == VILLAGE).then(|| "东村".to_string())
    }

    /// (field, value written, shown in Chinese, shown in English)
    #[test]
    fn history_values_read_as_words() {
        let cases: &[(&str, Value, &str, &str)] = &[
            (recipient::NAME, json!("王测试"), "王测试", "王测试"),
            (recipient::PHONE, Value::Null, "（清空）", "(cleared)"),
            (
                recipient::CATEGORIES,
                json!(["Dibao", "Disability"]),
                "低保对象、残疾人",
                "Minimum living allowance, Disability",
            ),
            (recipient::CATEGORIES, json!([]), "（清空）", "(cleared)"),
            (recipient::GENDER, json!("Female"), "女", "Female"),
            (recipient::HOUSEHOLD_RELATION, json!("Head"), "户主", "Head"),
            (recipient::HOUSEHOLD_RELATION, json!("Cousin"), "Cousin", "Cousin"),
            (recipient::VILLAGE_ID, json!(VILLAGE), "东村", "东村"),
            (recipient::HOUSEHOLD_ID, json!("0190e3a1-0000-7c3e-9a4b-1f2e3d4c5b6a"), "3d4c5b6a", "3d4c5b6a"),
            (recipient::HOUSEHOLD_ID, json!("not an id"), "not an id", "not an id"),
            ("nickname", json!(3), "3", "3"),
            ("nickname", json!({"a": [1]}), "{\"a\":[1]}", "{\"a\":[1]}"),
            ("nickname", json!(true), "是", "Yes"),
            (recipient::CATEGORIES, json!(["Dibao", 7]), "低保对象、7", "Minimum living allowance, 7"),
        ];
        for (field, value, zh, en) in cases {
            let spec = RECIPIENT.field(field);
            assert_eq!(shown_value(spec, value, Language::Zh, &names), *zh, "{field} {value}");
            assert_eq!(shown_value(spec, value, Language::En, &names), *en, "{field} {value}");
        }
    }

    #[test]
    fn ledger_lines_name_stages_sources_and_decisions_in_words() {
        let zh = |kind, summary| ledger_summary(kind, summary, Language::Zh);
        assert_eq!(zh(EntityKind::Case, "Identify"), "识别对象");
        assert_eq!(zh(EntityKind::Screening, "VisitScreening"), "走访排查");
        assert_eq!(zh(EntityKind::Screening, "邻居反映独居"), "邻居反映独居", "notes stay as written");
        assert_eq!(zh(EntityKind::ClosureDecision, "Returned: 请再回访"), "退回：请再回访");
        assert_eq!(zh(EntityKind::ClosureDecision, "SignedOff"), "同意结案");
        assert_eq!(ledger_summary(EntityKind::Case, "FollowUp", Language::En), "Follow-up");
        assert_eq!(zh(EntityKind::Visit, "Identify"), "Identify", "a visit's observations as written");
    }

    #[test]
    fn long_texts_are_cut_on_a_character_boundary() {
        assert_eq!(summary_text("短"), "短");
        let long = "😀".repeat(10_000);
        let shown = summary_text(&long);
        assert_eq!(shown.chars().count(), 301);
        assert!(shown.ends_with('…'));
        assert_eq!(summary_text(&"a".repeat(300)), "a".repeat(300));
    }

    #[test]
    fn a_visit_is_marked_by_its_correction() {
        let (a, b) = (Uuid::from_u128(1), Uuid::from_u128(2));
        assert_eq!(Correction::of(None, None), Correction::None);
        assert_eq!(Correction::of(Some(b), None), Correction::CorrectedBy(b));
        assert_eq!(Correction::of(None, Some(a)), Correction::Corrects(a));
        assert_eq!(Correction::of(Some(b), Some(a)), Correction::CorrectedBy(b), "a correction corrected again");
        assert_eq!(short_id(Uuid::try_parse(VILLAGE).expect("an id")), "3d4c5b6a");
        assert_eq!(ledger_row_id(a), format!("ledger-{a}"));
    }
}
