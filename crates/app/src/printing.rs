//! Printing a recipient's file (档案) and a closed case as documents: the same [`Report`] model
//! as the station's reports, so the same PDF renderer prints them, built from what the file and
//! the case page show (`recipient::recipient_file`, `case::case_page`, which decide what the user
//! may read).

use chrono::NaiveDate;
use contract::{Bilingual, CasePage, CaseRecordKind, Cell, RecipientFile, Report, ReportSection, ReportTable};
use domain::Labelled;
use domain::case::*;
use domain::entity::{FieldType, field};
use domain::policy::Actor;
use domain::recipient::RecipientCategory;
use serde_json::Value;
use store::Store;
use uuid::Uuid;

use crate::AppError;

fn b(zh: &str, en: &str) -> Bilingual {
    Bilingual::new(zh, en)
}

fn text(value: Option<impl ToString>) -> Cell {
    value.map_or(Cell::Empty, |v| Cell::Text(v.to_string()))
}

fn facts(id: &str, heading: Bilingual, rows: Vec<(Bilingual, Cell)>) -> ReportTable {
    ReportTable {
        id: id.into(),
        heading,
        columns: vec![b("项目", "Item"), b("内容", "Details")],
        rows: rows.into_iter().map(|(k, v)| vec![Cell::Label(k), v]).collect(),
    }
}

fn document(
    title: Bilingual,
    station: Option<(Uuid, String)>,
    subtitle: Bilingual,
    today: NaiveDate,
    sections: Vec<ReportSection>,
) -> Report {
    let (station_id, station_name) = station.unwrap_or_default();
    Report { title, station_id, station_name, period: None, subtitle, made_on: today, sections }
}

/// A person's file as a document: the facts, the household, open cases and the service ledger.
pub fn recipient_file_document(store: &Store, recipient_id: Uuid, today: NaiveDate) -> Result<Report, AppError> {
    let file: RecipientFile = crate::recipient::recipient_file(store, recipient_id)?;
    let categories = file.categories.iter().map(|c: &RecipientCategory| Bilingual::label(*c));
    let (zh, en): (Vec<_>, Vec<_>) = categories.map(|l| (l.zh, l.en)).unzip();
    let place = |r: &Option<contract::NamedRef>| text(r.as_ref().map(|r| r.name.clone()));
    let mut rows = vec![
        (b("姓名", "Name"), Cell::Text(file.name.clone())),
        (b("身份证号", "Resident ID number"), Cell::Text(file.id_number.clone())),
        (b("性别", "Gender"), file.gender.map_or(Cell::Empty, |g| Cell::Label(Bilingual::label(g)))),
        (b("出生日期", "Date of birth"), file.birth_date.map_or(Cell::Empty, Cell::Date)),
        (b("对象类别", "Categories"), Cell::Label(Bilingual::new(zh.join("、"), en.join(", ")))),
        (b("手机号", "Mobile number"), text(file.phone.as_ref())),
        (b("所在村(社区)", "Village"), place(&file.place.village)),
        (b("所属社工点", "Service point"), place(&file.place.service_point)),
        (b("住址", "Address"), text(file.address.as_ref())),
        (b("备注", "Notes"), text(file.notes.as_ref())),
    ];
    if let Some(household) = &file.household {
        rows.push((b("所属家庭", "Household"), Cell::Text(household.name.clone())));
        rows.push((
            b("与户主关系", "Relation to the head"),
            file.household_relation.map_or(Cell::Empty, |r| Cell::Label(Bilingual::label(r))),
        ));
    }
    let cases = ReportTable {
        id: "open-cases".into(),
        heading: b("在办个案", "Open cases"),
        columns: vec![b("阶段", "Stage"), b("开案日期", "Opened on"), b("负责社工", "Worker")],
        rows: file
            .open_cases
            .iter()
            .map(|c| {
                vec![
                    c.stage.map_or(Cell::Empty, |s| Cell::Label(Bilingual::label(s))),
                    c.opened_on.map_or(Cell::Empty, Cell::Date),
                    text(c.worker_name.as_ref()),
                ]
            })
            .collect(),
    };
    let ledger = ReportTable {
        id: "ledger".into(),
        heading: b("服务台账", "Service ledger"),
        columns: vec![b("日期", "Date"), b("类型", "Kind"), b("内容", "What"), b("记录人", "By")],
        rows: file
            .ledger
            .iter()
            .map(|item| {
                vec![
                    Cell::Date(item.date),
                    Cell::Label(Bilingual::label(item.kind)),
                    Cell::Text(item.summary.clone()),
                    text(item.author_name.as_ref()),
                ]
            })
            .collect(),
    };
    let station = file.place.station.as_ref().map(|s| (s.id, s.name.clone()));
    let sections = vec![
        ReportSection {
            id: "facts".into(),
            heading: b("基本信息", "Facts"),
            tables: vec![facts("facts", b("服务对象", "Recipient"), rows)],
            notes: vec![],
        },
        ReportSection { id: "cases".into(), heading: b("个案", "Cases"), tables: vec![cases], notes: vec![] },
        ReportSection {
            id: "ledger".into(),
            heading: b("服务台账", "Service ledger"),
            tables: vec![ledger],
            notes: vec![],
        },
    ];
    Ok(document(
        b("服务对象档案", "Recipient's file"),
        station,
        Bilingual::new(file.name.clone(), file.name),
        today,
        sections,
    ))
}

/// The label of a stage record's vocabulary value (the case records' vocabularies), else the
/// value as stored.
fn value_cell(ty: FieldType, value: &Value) -> Cell {
    fn find<T: Labelled>(names: &[&str], value: &str) -> Option<Cell> {
        let same = names.len() == T::ALL.len() && T::ALL.iter().zip(names).all(|(v, n)| v.as_str() == *n);
        if same { T::parse(value).map(|v| Cell::Label(Bilingual::label(v))) } else { None }
    }
    match (ty, value) {
        (FieldType::Enum(names), Value::String(s)) => find::<ScreeningSource>(names, s)
            .or_else(|| find::<RiskLevel>(names, s))
            .or_else(|| find::<GoalEvaluation>(names, s))
            .or_else(|| find::<ResourceLinkKind>(names, s))
            .or_else(|| find::<ResourceLinkStatus>(names, s))
            .or_else(|| find::<ServiceType>(names, s))
            .or_else(|| find::<ServiceMethod>(names, s))
            .unwrap_or_else(|| Cell::Text(s.clone())),
        (FieldType::Bool, Value::Bool(yes)) => Cell::Label(if *yes { b("是", "yes") } else { b("否", "no") }),
        (_, Value::String(s)) => Cell::Text(s.clone()),
        (_, Value::Null) => Cell::Empty,
        (_, other) => Cell::Text(other.to_string()),
    }
}

/// A closed case as a document: the case, its closure and sign-off, and every stage record
/// (corrected ones marked). Only a closed case prints; `actor` must be allowed to read it.
pub fn closed_case_document(store: &Store, actor: &Actor, case_id: Uuid, today: NaiveDate) -> Result<Report, AppError> {
    let page: CasePage = crate::case::case_page(store, actor, case_id)?;
    if page.case.stage != Stage::Closed {
        return Err(AppError::BadRequest("only a closed case is printed".into()));
    }
    let case = &page.case;
    let decision = page.latest_decision.as_ref();
    let seal =
        decision.and_then(|d| d.seal.as_ref()).map(|s| Bilingual::new(s.message_zh.clone(), s.message_en.clone()));
    let summary = vec![
        (b("服务对象", "Recipient"), Cell::Text(page.recipient.name.clone())),
        (b("所在村(社区)", "Village"), text(page.recipient.village.as_ref().map(|v| v.name.clone()))),
        (b("负责社工", "Worker"), text(case.worker.as_ref().map(|w| w.name.clone()))),
        (b("开案日期", "Opened on"), case.opened_on.map_or(Cell::Empty, Cell::Date)),
        (b("结案日期", "Closed on"), case.stage_entered_on.map_or(Cell::Empty, Cell::Date)),
        (b("介入策略", "Intervention strategy"), text(case.plan_strategy.as_ref())),
        (b("结案小结", "Closure summary"), text(case.closure_summary.as_ref())),
        (b("督导", "Supervisor"), text(decision.and_then(|d| d.supervisor.as_ref()).map(|s| s.name.clone()))),
        (b("督导意见", "Supervisor's comments"), text(decision.and_then(|d| d.comments.as_ref()))),
        (b("签署", "Seal"), seal.map_or(Cell::Empty, Cell::Label)),
    ];
    let mut tables = vec![facts("case", b("个案概况", "The case"), summary)];
    for kind in CaseRecordKind::ALL {
        let records = page.records.of(kind);
        if records.is_empty() {
            continue;
        }
        let spec = kind.entity_kind().spec();
        let shown: Vec<_> = spec
            .fields
            .iter()
            .filter(|f| !matches!(f.ty, FieldType::Ref(_) | FieldType::RefList(_)) && f.name != field::STATION_ID)
            .collect();
        let mut columns: Vec<Bilingual> = shown.iter().map(|f| Bilingual::new(f.zh, f.en)).collect();
        columns.push(b("记录人", "Recorded by"));
        let rows = records
            .iter()
            .map(|r| {
                let mut row: Vec<Cell> =
                    shown.iter().map(|f| r.fields.get(f.name).map_or(Cell::Empty, |v| value_cell(f.ty, v))).collect();
                let by = r.recorded_by.as_ref().map_or(String::new(), |n| n.name.clone());
                row.push(if r.corrected_by.is_some() {
                    Cell::Label(Bilingual::new(format!("{by}（已更正）"), format!("{by} (corrected)")))
                } else {
                    Cell::Text(by)
                });
                row
            })
            .collect();
        tables.push(ReportTable {
            id: format!("records-{}", kind.entity_kind().as_str()),
            heading: Bilingual::label(kind.entity_kind()),
            columns,
            rows,
        });
    }
    let station = case.station_id.map(|id| {
        let name = store
            .entity(domain::entity::EntityKind::Station, id)
            .ok()
            .flatten()
            .and_then(|s| s.get_str(field::station::NAME).map(str::to_owned))
            .unwrap_or_default();
        (id, name)
    });
    let subtitle = Bilingual::new(format!("{}的个案", page.recipient.name), format!("Case of {}", page.recipient.name));
    let sections =
        vec![ReportSection { id: "case".into(), heading: b("结案个案", "Closed case"), tables, notes: vec![] }];
    Ok(document(b("个案结案档案", "Closed case file"), station, subtitle, today, sections))
}

#[cfg(test)]
mod tests {
    use contract::Language;

    use super::*;
    use crate::testing::Station;

    #[test]
    fn a_recipient_s_file_prints_with_the_facts_and_the_ledger() {
        let mut s = Station::new();
        let id = s.add_recipient("李四", 11);
        let report = recipient_file_document(&s.store, id, crate::testing::today()).expect("document");
        assert_eq!(report.station_name, "城关社工站");
        assert_eq!(report.subtitle.zh, "李四");
        let facts = &report.sections[0].tables[0];
        assert_eq!(facts.rows[0][1], Cell::Text("李四".into()));
        assert_eq!(facts.rows[4][1].display(Language::Zh), "低保对象");
        let bytes = report::render_xlsx(&report, Language::Zh).expect("renders");
        assert!(!bytes.is_empty());
    }
}
