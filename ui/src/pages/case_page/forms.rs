//! The case page's forms, each a component with its own command and error: a new record of a
//! kind, a record's correction, a goal's evaluation, the plan's strategy, the move to the next
//! stage and the closure request.

use std::rc::Rc;

use contract::command::{
    MoveCase, MoveCaseArgs, RequestClosure, RequestClosureArgs, SaveCaseRecord, SaveCaseRecordArgs, SetPlanStrategy,
    SetPlanStrategyArgs, UpdateCaseRecord, UpdateCaseRecordArgs,
};
use contract::{CasePage, CaseRecordKind, CaseRecordView, FieldValues};
use domain::case::Stage;
use domain::entity::{CASE, field};
use uuid::Uuid;
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

use super::model::*;
use crate::app::use_app;
use crate::components::spec_form::SpecForm;
use crate::focus::focus_soon;
use crate::form::{ShownError, Values};
use crate::hooks::use_action;
use crate::i18n::{Text, label};
use crate::pages::resources::use_resource_choices;
use crate::time::today;

#[derive(Properties, PartialEq)]
pub(super) struct MoveNextProps {
    pub(super) page: Rc<CasePage>,
    pub(super) on_moved: Callback<Stage>,
}

/// The "move to the next stage" button: disabled, with the reason, while something is missing.
#[function_component(MoveNext)]
pub(super) fn move_next(props: &MoveNextProps) -> Html {
    let language = use_app().language;
    let action = use_action::<MoveCase>();
    let (next, ready) = match move_button(&props.page) {
        MoveButton::Hidden => return Html::default(),
        MoveButton::Ready(next) => (next, true),
        MoveButton::Blocked(next) => (next, false),
    };
    let onclick = {
        let (action, on_moved, case_id) = (action.clone(), props.on_moved.clone(), props.page.case.id);
        Callback::from(move |_: MouseEvent| {
            let on_moved = on_moved.clone();
            action.run(MoveCaseArgs { case_id, to_stage: next }, move |_| on_moved.emit(next));
        })
    };
    let text = match action.busy {
        true => Text::CaseMoving.get(language).to_string(),
        false => format!("{}{}", Text::CaseMoveTo.get(language), label(next, language)),
    };
    html! {
        <div class="move">
            <button type="button" id="move-next-stage" class="primary" disabled={!ready || action.busy}
                aria-describedby={(!ready).then_some("move-blocked")} {onclick}>
                { text }
            </button>
            if ready {
                { Html::default() }
            } else {
                <p id="move-blocked" class="muted">{ Text::CaseMoveBlocked.get(language) }</p>
            }
            { action.error.as_ref().map(|e| html! {
                <p id="move-error" class="error" role="alert">{ e.message(language).to_string() }</p>
            }).unwrap_or_default() }
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub(super) struct ClosureRequestProps {
    pub(super) case_id: Uuid,
    pub(super) may_request: bool,
    pub(super) on_said: Callback<Text>,
}

/// The closure request: the summary (kept as typed whatever happens) and the request button,
/// disabled with the reason until the pipeline allows it.
#[function_component(ClosureRequestForm)]
pub(super) fn closure_request_form(props: &ClosureRequestProps) -> Html {
    let language = use_app().language;
    let typed = use_state_eq(String::new);
    let error = use_state_eq(|| None::<ShownError>);
    let action = use_action::<RequestClosure>();
    let oninput = {
        let (typed, error) = (typed.clone(), error.clone());
        Callback::from(move |e: InputEvent| {
            let value = e.target_unchecked_into::<HtmlTextAreaElement>().value();
            // An error shown goes once the text is right; a new one waits for the next request.
            if error.is_some() {
                error.set(check_summary(&value, today()).err());
            }
            typed.set(value);
        })
    };
    let request = {
        let (typed, error, action) = (typed.clone(), error.clone(), action.clone());
        let (case_id, may_request, on_said) = (props.case_id, props.may_request, props.on_said.clone());
        Rc::new(move || {
            if !may_request || action.busy {
                return;
            }
            match check_summary(&typed, today()) {
                Ok(summary) => {
                    error.set(None);
                    let on_said = on_said.clone();
                    action
                        .run(RequestClosureArgs { case_id, summary }, move |_| on_said.emit(Text::CaseClosurePending));
                }
                Err(e) => {
                    error.set(Some(e));
                    focus_soon("closure-summary");
                }
            }
        })
    };
    let onsubmit = {
        let request = request.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            request();
        })
    };
    let onkeydown = Callback::from(move |e: KeyboardEvent| {
        if e.key() == "Enter" && (e.ctrl_key() || e.meta_key()) && !e.is_composing() {
            e.prevent_default();
            request();
        }
    });
    let described_by = match &*error {
        Some(_) => "error-closure-summary",
        None => "closure-summary-hint",
    };
    html! {
        <form id="closure-form" class="closure-request" aria-labelledby="closure-title" {onsubmit} {onkeydown}
            novalidate=true>
            <h2 id="closure-title">{ Text::CaseClosureTitle.get(language) }</h2>
            <div class={classes!("field", error.is_some().then_some("has-error"))}>
                <label for="closure-summary">
                    { Text::CaseClosureSummary.get(language) }<span class="required" aria-hidden="true">{ " *" }</span>
                </label>
                <textarea id="closure-summary" name="closure_summary" rows="5" value={(*typed).clone()} {oninput}
                    required=true aria-invalid={error.is_some().then_some("true")} aria-describedby={described_by} />
                <div class="hint" id="closure-summary-hint">{ Text::CaseClosureSummaryHint.get(language) }</div>
                { error.as_ref().map(|e| html! {
                    <div class="error" id="error-closure-summary" role="alert">{ e.message(language).to_string() }</div>
                }).unwrap_or_default() }
            </div>
            { action.error.as_ref().map(|e| html! {
                <p id="closure-error" class="error" role="alert">{ e.message(language).to_string() }</p>
            }).unwrap_or_default() }
            <div class="actions">
                <button type="submit" id="request-closure" class="primary" disabled={!props.may_request || action.busy}
                    aria-describedby={(!props.may_request).then_some("closure-not-yet")}>
                    { if action.busy { Text::CaseRequesting.get(language) } else { Text::CaseRequestClosure.get(language) } }
                </button>
            </div>
            if props.may_request {
                { Html::default() }
            } else {
                <p id="closure-not-yet" class="muted">{ Text::CaseClosureNotYet.get(language) }</p>
            }
        </form>
    }
}

#[derive(Properties, PartialEq)]
pub(super) struct NewRecordProps {
    pub(super) case_id: Uuid,
    pub(super) kind: CaseRecordKind,
    pub(super) on_saved: Callback<CaseRecordKind>,
}

/// The form adding a record of one kind to the case.
#[function_component(NewRecordForm)]
pub(super) fn new_record_form(props: &NewRecordProps) -> Html {
    let language = use_app().language;
    let save = use_action::<SaveCaseRecord>();
    let kind = props.kind;
    let choices = use_resource_choices(kind == CaseRecordKind::ResourceLink);
    let onsubmit = {
        let (save, case_id, on_saved) = (save.clone(), props.case_id, props.on_saved.clone());
        Callback::from(move |values: Values| {
            let on_saved = on_saved.clone();
            let args = SaveCaseRecordArgs { case_id, kind, fields: new_record_fields(&values), amends: None };
            save.run(args, move |_| on_saved.emit(kind));
        })
    };
    html! {
        <div class="record-form" aria-labelledby={format!("{}-title", form_id(kind))}>
            <h4 id={format!("{}-title", form_id(kind))}>
                { format!("{}{}", Text::CaseAddRecord.get(language), label(kind.entity_kind(), language)) }
            </h4>
            <SpecForm id={form_id(kind)} id_prefix={form_prefix(kind)} autofocus={false} fields={form_fields(kind)}
                {choices} {onsubmit} busy={save.busy} error={save.error.clone()} />
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub(super) struct CorrectProps {
    pub(super) case_id: Uuid,
    pub(super) record: CaseRecordView,
    /// The record, and what to say, once saved (or found unchanged).
    pub(super) on_done: Callback<(Uuid, Text)>,
    pub(super) on_cancel: Callback<()>,
}

/// Correcting a record: an amendment (a new record that corrects it) for interventions and
/// follow-up visits, an edit of what changed for the others.
#[function_component(CorrectRecordForm)]
pub(super) fn correct_record_form(props: &CorrectProps) -> Html {
    let language = use_app().language;
    let amend = use_action::<SaveCaseRecord>();
    let edit = use_action::<UpdateCaseRecord>();
    let record = &props.record;
    let (kind, record_id, append_only) = (record.kind, record.id, record.kind.append_only());
    let initial = use_memo(record.fields.clone(), |fields| fields.clone());
    let choices = use_resource_choices(kind == CaseRecordKind::ResourceLink);
    let onsubmit = {
        let (amend, edit, on_done, case_id) = (amend.clone(), edit.clone(), props.on_done.clone(), props.case_id);
        let stored = initial.clone();
        Callback::from(move |values: Values| {
            let on_done = on_done.clone();
            if append_only {
                let args =
                    SaveCaseRecordArgs { case_id, kind, fields: new_record_fields(&values), amends: Some(record_id) };
                // The focus goes to the corrected record: the correction is listed after it.
                amend.run(args, move |_| on_done.emit((record_id, Text::CaseCorrectionSaved)));
                return;
            }
            let fields = changed_fields(&stored, &values);
            if fields.is_empty() {
                on_done.emit((record_id, Text::CaseNothingChanged));
                return;
            }
            edit.run(UpdateCaseRecordArgs { kind, record_id, fields }, move |_| {
                on_done.emit((record_id, Text::CaseChangesSaved))
            });
        })
    };
    let oncancel = props.on_cancel.clone();
    let (title, hint) = match append_only {
        true => (Text::CaseCorrectTitle, Some(Text::CaseAmendHint)),
        false => (Text::CaseEditTitle, None),
    };
    html! {
        <div class="editor" aria-labelledby="correct-form-title">
            <h4 id="correct-form-title">{ title.get(language) }</h4>
            { hint.map(|h| html! { <p class="hint">{ h.get(language) }</p> }).unwrap_or_default() }
            <SpecForm id={CORRECT_FORM_ID} id_prefix={CORRECT_PREFIX} fields={correct_fields(kind)}
                initial={initial.clone()} {choices} {onsubmit} {oncancel}
                busy={amend.busy || edit.busy} error={amend.error.clone().or_else(|| edit.error.clone())}
                submit_text={if append_only { Text::CaseSaveCorrection } else { Text::Save }} />
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub(super) struct EvaluateProps {
    pub(super) goal: CaseRecordView,
    pub(super) on_done: Callback<(Uuid, Text)>,
    pub(super) on_cancel: Callback<()>,
}

/// A goal's evaluation at follow-up (an edit of the goal).
#[function_component(EvaluateGoalForm)]
pub(super) fn evaluate_goal_form(props: &EvaluateProps) -> Html {
    let language = use_app().language;
    let edit = use_action::<UpdateCaseRecord>();
    let initial: Rc<FieldValues> = use_memo(props.goal.fields.clone(), |fields| fields.clone());
    let goal_id = props.goal.id;
    let onsubmit = {
        let (edit, on_done, stored) = (edit.clone(), props.on_done.clone(), initial.clone());
        Callback::from(move |values: Values| {
            let on_done = on_done.clone();
            let fields = changed_fields(&stored, &values);
            if fields.is_empty() {
                on_done.emit((goal_id, Text::CaseNothingChanged));
                return;
            }
            let args = UpdateCaseRecordArgs { kind: CaseRecordKind::Goal, record_id: goal_id, fields };
            edit.run(args, move |_| on_done.emit((goal_id, Text::CaseChangesSaved)));
        })
    };
    html! {
        <div class="editor" aria-labelledby="evaluate-form-title">
            <h4 id="evaluate-form-title">{ Text::CaseEvaluateTitle.get(language) }</h4>
            <SpecForm id={EVALUATE_FORM_ID} id_prefix={EVALUATE_PREFIX} fields={evaluation_fields()}
                initial={initial.clone()} {onsubmit} oncancel={props.on_cancel.clone()}
                busy={edit.busy} error={edit.error.clone()} />
        </div>
    }
}

#[derive(Properties, PartialEq)]
pub(super) struct StrategyProps {
    pub(super) case_id: Uuid,
    pub(super) current: Option<String>,
    pub(super) on_said: Callback<Text>,
}

/// The plan's intervention strategy, a text the worker keeps up to date.
#[function_component(StrategyForm)]
pub(super) fn strategy_form(props: &StrategyProps) -> Html {
    let save = use_action::<SetPlanStrategy>();
    let initial = use_memo((), {
        let current = props.current.clone();
        move |_| {
            let mut values = FieldValues::new();
            if let Some(text) = current {
                values.insert(field::case::PLAN_STRATEGY.to_string(), text.into());
            }
            values
        }
    });
    let fields: Vec<_> = CASE.field(field::case::PLAN_STRATEGY).into_iter().collect();
    let onsubmit = {
        let (save, case_id, on_said) = (save.clone(), props.case_id, props.on_said.clone());
        Callback::from(move |values: Values| {
            let on_said = on_said.clone();
            let strategy = values.text(field::case::PLAN_STRATEGY);
            save.run(SetPlanStrategyArgs { case_id, strategy }, move |_| on_said.emit(Text::CaseStrategySaved));
        })
    };
    html! {
        <SpecForm id={STRATEGY_FORM_ID} id_prefix={STRATEGY_PREFIX} autofocus={false} {fields}
            initial={initial} {onsubmit} busy={save.busy} error={save.error.clone()} />
    }
}
