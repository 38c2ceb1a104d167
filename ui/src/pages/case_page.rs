//! The case page (个案): who it is for and where it stands; the supervisor's word on a closure
//! at the top (returned with comments, pending, signed off with its seal); the pipeline as a
//! stepper (识别对象 → … → 结案), each step showing its stage's records and the forms that add
//! them (a [`SpecForm`] over the record kind's field specs); what is still missing before the
//! next step, each item with a button to the form that supplies it; the move to the next stage;
//! and at follow-up the closure request.
//!
//! Every stage's panel stays on the page (the others hidden), so what is typed in one form
//! survives going to another step, a failed save and a reload after a sync. Only one
//! correction or evaluation form is open at a time (under its record). The forms are in
//! [`forms`], the pure parts in [`model`].
//!
//! Ids: `#case-page`, `#case-stepper`, `#step-<stage>` (`identify` … `follow_up`, `closed`),
//! `#stage-<stage>` (a step's panel), `#case-records-<kind>` (`screening`, `assessment`,
//! `goal`, `resource_link`, `intervention`, `follow_up`), `#record-<id>` (a resource link's
//! `#record-resource-<id>`), `#correct-<id>`,
//! `#evaluate-<id>`, `#record-form-<kind>` (its controls `#<kind>-<field>`, `#<kind>-save`),
//! `#correct-form` (`#correct-…`), `#evaluate-form` (`#evaluate-…`), `#plan-strategy-form`
//! (`#strategy-plan_strategy`, `#strategy-save`), `#case-missing`, `#missing-<code>`,
//! `#go-<code>`, `#case-ready`, `#move-next-stage`, `#move-blocked`, `#move-error`,
//! `#closure-summary`, `#request-closure`, `#closure-error`, `#closure-pending`,
//! `#closure-returned`, `#closure-comments`, `#closure-signed-off`, `#closure-seal`,
//! `#case-status`, `#case-error`; the supervisor's parts are in [`decision`] (`#decision-panel`,
//! `#sign-off`, `#return-closure`, `#reopen-case`, ...).

mod decision;
mod forms;
mod model;

use std::collections::BTreeMap;
use std::rc::Rc;

use contract::command::{CaseIdArgs, CasePage as GetCasePage};
use contract::{CasePage, CaseRecordKind, CaseRecordView, ClosureDecisionView, Language, StepState};
use domain::case::Stage;
use domain::entity::{CASE, RESOURCE_LINK, field};
use forms::{ClosureRequestForm, CorrectRecordForm, EvaluateGoalForm, MoveNext, NewRecordForm, StrategyForm};
use model::*;
use uuid::Uuid;
use yew::prelude::*;

use crate::app::use_app;
use crate::focus::focus_soon;
use crate::hooks::use_command;
use crate::i18n::{Text, label};
use crate::route::Route;
use crate::time::local_date_time;

#[derive(Properties, PartialEq)]
pub struct CaseScreenProps {
    pub id: Uuid,
}

/// What the page says in its live region after a change.
#[derive(Debug, Clone, PartialEq)]
enum Status {
    Said(Text),
    Moved(Stage),
}

#[function_component(CaseScreen)]
pub fn case_screen(props: &CaseScreenProps) -> Html {
    let app = use_app();
    let language = app.language;
    let case_id = props.id;
    let page = use_command::<GetCasePage, _>(CaseIdArgs { case_id }, (case_id, app.data_version));
    // The step the user picked; `None` follows the case's current stage.
    let picked = use_state_eq(|| None::<Stage>);
    let editor = use_state_eq(|| None::<Editor>);
    // Bumped when a kind's new-record form saved: it starts over, empty.
    let generations = use_state_eq(BTreeMap::<CaseRecordKind, u32>::new);
    let status = use_state_eq(|| None::<Status>);
    {
        let (picked, editor, status) = (picked.clone(), editor.clone(), status.clone());
        use_effect_with(case_id, move |_| {
            picked.set(None);
            editor.set(None);
            status.set(None);
        });
    }

    let Some(data) = page.data() else {
        return match page.error() {
            Some(error) => {
                let reload = page.clone();
                html! {
                    <section id="case-page" class="case-page">
                        <h1>{ Text::CaseTitle.get(language) }</h1>
                        <p id="case-error" class="error" role="alert">{ error.message(language).to_string() }</p>
                        <button type="button" onclick={Callback::from(move |_| reload.reload())}>
                            { Text::Retry.get(language) }
                        </button>
                    </section>
                }
            }
            None => html! {
                <section id="case-page" class="case-page" aria-busy="true">
                    <p class="muted">{ Text::Loading.get(language) }</p>
                </section>
            },
        };
    };

    let reload = {
        let page = page.clone();
        Callback::from(move |()| page.reload())
    };
    let go_to = {
        let (picked, editor) = (picked.clone(), editor.clone());
        Callback::from(move |target: FormTarget| {
            picked.set(Some(target.stage()));
            if let FormTarget::Evaluate(goal) = target {
                editor.set(Some(Editor::Evaluate(goal)));
            }
            if let Some(id) = first_control_id(target) {
                focus_soon(id);
            }
        })
    };
    let on_saved = {
        let (generations, status, reload) = (generations.clone(), status.clone(), reload.clone());
        Callback::from(move |kind: CaseRecordKind| {
            let mut next = (*generations).clone();
            *next.entry(kind).or_default() += 1;
            generations.set(next);
            status.set(Some(Status::Said(Text::CaseRecordSaved)));
            reload.emit(());
            if let Some(id) = first_control_id(FormTarget::New(kind)) {
                focus_soon(id);
            }
        })
    };
    // A correction or an evaluation saved (or nothing to save): its form closes.
    let on_edited = {
        let (editor, status, reload) = (editor.clone(), status.clone(), reload.clone());
        Callback::from(move |(record, said): (Uuid, Text)| {
            editor.set(None);
            status.set(Some(Status::Said(said)));
            reload.emit(());
            focus_soon(record_id(record));
        })
    };
    let on_moved = {
        let (picked, status, reload) = (picked.clone(), status.clone(), reload.clone());
        Callback::from(move |stage: Stage| {
            picked.set(None);
            status.set(Some(Status::Moved(stage)));
            reload.emit(());
            focus_soon(step_id(stage));
        })
    };
    let on_said = {
        let (status, reload) = (status.clone(), reload.clone());
        Callback::from(move |said: Text| {
            status.set(Some(Status::Said(said)));
            reload.emit(());
        })
    };
    let set_editor = {
        let editor = editor.clone();
        Callback::from(move |next: Option<Editor>| editor.set(next))
    };
    let pick = {
        let picked = picked.clone();
        Callback::from(move |stage: Stage| picked.set(Some(stage)))
    };

    let status_text = match &*status {
        Some(Status::Said(text)) => text.get(language).to_string(),
        Some(Status::Moved(stage)) => match language {
            Language::Zh => format!("{}「{}」", Text::CaseMoved.get(language), label(*stage, language)),
            Language::En => format!("{} {}.", Text::CaseMoved.get(language), label(*stage, language)),
        },
        None => String::new(),
    };
    let shown = shown_stage(data, *picked);
    let panels = data.steps.iter().map(|step| {
        let context = PanelContext {
            page: data,
            stage: step.stage,
            state: step.state,
            shown: step.stage == shown,
            editor: *editor,
            generations: &generations,
            language,
            on_saved: on_saved.clone(),
            on_edited: on_edited.clone(),
            on_said: on_said.clone(),
            set_editor: set_editor.clone(),
        };
        panel(context)
    });
    html! {
        <section id="case-page" class="case-page" aria-labelledby="case-title" aria-busy={page.loading().then_some("true")}>
            { header(data, language) }
            { closure_banner_html(data, language) }
            if data.case.stage == Stage::Closed {
                <crate::components::print::PrintButton target={crate::components::print::PrintTarget::ClosedCase(data.case.id)} />
            }
            { decision::supervisor_parts(data, language, on_said.clone()) }
            <div id="case-status" class="case-status" role="status">{ status_text }</div>
            { page.error().map(|e| html! {
                <p id="case-error" class="error" role="alert">{ e.message(language).to_string() }</p>
            }).unwrap_or_default() }
            <crate::components::hand_over_offers::HandOverOffersPanel case_id={Some(data.case.id)} />
            { stepper(data, *picked, language, pick) }
            { next_step(data, language, go_to, on_moved, on_said.clone()) }
            { for panels }
        </section>
    }
}

/// The colon after a label, as each language writes it.
fn colon(language: Language) -> &'static str {
    match language {
        Language::Zh => "：",
        Language::En => ": ",
    }
}

/// `label: value`.
fn labelled(language: Language, label: &str, value: impl std::fmt::Display) -> String {
    format!("{label}{}{value}", colon(language))
}

/// Who the case is for, its worker, and where it stands.
fn header(data: &CasePage, language: Language) -> Html {
    let case = &data.case;
    let unknown = || Text::CaseUnknown.get(language).to_string();
    let recipient = if data.recipient.name.is_empty() { unknown() } else { data.recipient.name.clone() };
    let village = data.recipient.village.as_ref().map(|v| v.name.clone()).unwrap_or_default();
    let worker = case.worker.as_ref().map_or_else(unknown, |w| w.name.clone());
    let date = |d: Option<chrono::NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    html! {
        <header class="case-header">
            <h1 id="case-title">{ labelled(language, Text::CaseTitle.get(language), &recipient) }</h1>
            <dl class="case-facts">
                <div>
                    <dt>{ Text::CaseRecipient.get(language) }</dt>
                    <dd>
                        <a id="case-recipient" href={Route::Recipient { id: data.recipient.id }.to_hash()}>{ recipient }</a>
                        { if village.is_empty() { String::new() } else { format!("（{village}）") } }
                    </dd>
                </div>
                <div><dt>{ Text::CaseAssignedWorker.get(language) }</dt><dd>{ worker }</dd></div>
                <div><dt>{ Text::CaseOpenedOn.get(language) }</dt><dd>{ date(case.opened_on) }</dd></div>
                <div>
                    <dt>{ Text::CaseCurrentStage.get(language) }</dt>
                    <dd id="case-stage">{ label(case.stage, language) }</dd>
                </div>
                <div><dt>{ Text::CaseInStageSince.get(language) }</dt><dd>{ date(case.stage_entered_on) }</dd></div>
                <div>
                    <dt>{ Text::CaseClosureStatus.get(language) }</dt>
                    <dd id="case-closure-status">{ label(case.closure_status, language) }</dd>
                </div>
            </dl>
        </header>
    }
}

/// Who decided and when, in local time.
fn decided_by(decision: Option<&ClosureDecisionView>, language: Language) -> Html {
    let Some(decision) = decision else { return Html::default() };
    let supervisor =
        decision.supervisor.as_ref().map_or_else(|| Text::CaseUnknown.get(language).to_string(), |s| s.name.clone());
    let at = decision.decided_at.map(|at| local_date_time(at, language)).unwrap_or_default();
    html! {
        <p class="decided-by">
            { labelled(language, Text::CaseSupervisor.get(language), supervisor) }
            { if at.is_empty() { String::new() } else { format!("　{}", labelled(language, Text::CaseDecidedAt.get(language), at)) } }
        </p>
    }
}

/// The supervisor's word, where the worker sees it first.
fn closure_banner_html(data: &CasePage, language: Language) -> Html {
    match closure_banner(data) {
        ClosureBanner::None => Html::default(),
        ClosureBanner::Pending { summary } => html! {
            <div id="closure-pending" class="banner pending" role="note">
                <strong>{ Text::CaseClosurePending.get(language) }</strong>
                { data.case.closure_requested_on.map(|on| html! {
                    <p>{ labelled(language, Text::CaseRequestedOn.get(language), on) }</p>
                }).unwrap_or_default() }
                { summary.map(|s| html! {
                    <p class="summary">{ labelled(language, Text::CaseClosureSummary.get(language), s) }</p>
                }).unwrap_or_default() }
            </div>
        },
        ClosureBanner::Returned { comments, decision } => html! {
            <div id="closure-returned" class="banner returned" role="alert" aria-labelledby="closure-returned-title">
                <h2 id="closure-returned-title">{ Text::CaseClosureReturned.get(language) }</h2>
                <p class="comments-label">{ Text::CaseSupervisorComments.get(language) }</p>
                <blockquote id="closure-comments" class="comments">
                    { comments.map_or_else(|| Text::CaseNoComments.get(language).to_string(), str::to_string) }
                </blockquote>
                { decided_by(decision, language) }
                <p class="hint">{ Text::CaseReturnedHint.get(language) }</p>
            </div>
        },
        ClosureBanner::SignedOff { decision } => {
            let seal = decision.and_then(|d| d.seal.as_ref());
            let seal_html = seal.map(|seal| {
                let (class, title) = match seal.verified {
                    true => ("seal verified", Text::CaseSealVerified),
                    false => ("seal broken", Text::CaseSealBroken),
                };
                let message = match language {
                    Language::Zh => &seal.message_zh,
                    Language::En => &seal.message_en,
                };
                html! {
                    <p id="closure-seal" {class} data-verified={seal.verified.to_string()}
                        data-code={seal.code.clone().unwrap_or_default()}>
                        <strong>{ title.get(language) }</strong>{ format!("{}{message}", colon(language)) }
                    </p>
                }
            });
            html! {
                <div id="closure-signed-off" class={classes!("banner", "signed-off", seal.filter(|s| !s.verified).map(|_| "broken"))}
                    role="note">
                    // Signed only when the seal verifies here and now.
                    <strong>{ match seal.map(|s| s.verified) {
                        Some(true) => Text::CaseSignedOff,
                        Some(false) => Text::CaseSealBrokenTitle,
                        None => Text::CaseSignOffNotHere,
                    }.get(language) }</strong>
                    { decided_by(decision, language) }
                    { decision.and_then(|d| d.comments.clone()).map(|c| html! {
                        <p>{ labelled(language, Text::CaseSupervisorComments.get(language), c) }</p>
                    }).unwrap_or_default() }
                    { seal_html.unwrap_or_default() }
                </div>
            }
        }
    }
}

/// The pipeline's seven steps; each a button showing its stage's panel. Left and right arrows
/// go from step to step too.
fn stepper(data: &CasePage, picked: Option<Stage>, language: Language, pick: Callback<Stage>) -> Html {
    let views = step_views(data, picked);
    let count = views.len();
    let items = views.iter().enumerate().map(|(position, view)| {
        let (class, state_text) = match view.state {
            StepState::Done => ("done", Text::CaseStepDone),
            StepState::Current => ("current", Text::CaseStepCurrent),
            StepState::Upcoming => ("upcoming", Text::CaseStepUpcoming),
        };
        let mark = match view.state {
            StepState::Done => "✓".to_string(),
            _ => (position + 1).to_string(),
        };
        let stage = view.stage;
        let onclick = pick.reform(move |_: MouseEvent| stage);
        let onkeydown = {
            let pick = pick.clone();
            let stages: Vec<Stage> = views.iter().map(|v| v.stage).collect();
            Callback::from(move |e: KeyboardEvent| {
                let to = match e.key().as_str() {
                    "ArrowRight" | "ArrowDown" => Some((position + 1).min(count - 1)),
                    "ArrowLeft" | "ArrowUp" => Some(position.saturating_sub(1)),
                    "Home" => Some(0),
                    "End" => Some(count - 1),
                    _ => None,
                };
                if let Some(stage) = to.and_then(|i| stages.get(i).copied()) {
                    e.prevent_default();
                    pick.emit(stage);
                    focus_soon(step_id(stage));
                }
            })
        };
        let records = (view.records > 0).then(|| format!("{} {}", view.records, Text::CaseRecordsCount.get(language)));
        html! {
            <li class={classes!("step", class, view.selected.then_some("selected"))}>
                <button type="button" id={step_id(stage)} aria-controls={panel_id(stage)}
                    aria-pressed={view.selected.to_string()}
                    aria-current={(view.state == StepState::Current).then_some("step")}
                    {onclick} {onkeydown}>
                    <span class="step-mark" aria-hidden="true">{ mark }</span>
                    <span class="step-label">{ label(stage, language) }</span>
                    <span class="step-state">{ state_text.get(language) }</span>
                    <span class="step-count">{ records.unwrap_or_default() }</span>
                </button>
            </li>
        }
    });
    html! {
        <nav id="case-stepper" class="stepper" aria-label={Text::CasePipeline.get(language)}>
            <ol>{ for items }</ol>
        </nav>
    }
}

/// What is still missing before the next step, and the step itself: the move to the next
/// stage, or at follow-up the closure request.
fn next_step(
    data: &CasePage,
    language: Language,
    go_to: Callback<FormTarget>,
    on_moved: Callback<Stage>,
    on_said: Callback<Text>,
) -> Html {
    if data.case.stage == Stage::Closed {
        return Html::default();
    }
    let items = data.missing.iter().map(|item| {
        let message = match language {
            Language::Zh => &item.message_zh,
            Language::En => &item.message_en,
        };
        let button = missing_target(item, &data.records).filter(|_| data.may_edit).map(|target| {
            let onclick = go_to.reform(move |_: MouseEvent| target);
            html! {
                <button type="button" id={format!("go-{}", item.code)} class="link" {onclick}
                    aria-controls={target.form_id()}>
                    { Text::CaseGoToForm.get(language) }
                </button>
            }
        });
        html! {
            <li id={format!("missing-{}", item.code)} data-code={item.code.clone()}>
                <span>{ message.clone() }</span>{ " " }{ button.unwrap_or_default() }
            </li>
        }
    });
    let missing = match data.missing.is_empty() {
        true => html! { <p id="case-ready" class="ready">{ Text::CaseNothingMissing.get(language) }</p> },
        false => html! {
            <div id="case-missing" class="missing" aria-labelledby="case-missing-title">
                <h2 id="case-missing-title">{ Text::CaseMissingTitle.get(language) }</h2>
                <ul>{ for items }</ul>
            </div>
        },
    };
    let step = match (data.case.stage, data.may_edit) {
        (Stage::FollowUp, true) => html! {
            <ClosureRequestForm case_id={data.case.id} may_request={data.may_request_closure} {on_said} />
        },
        _ => html! { <MoveNext page={Rc::new(data.clone())} {on_moved} /> },
    };
    html! {
        <section class="next-step" aria-label={Text::CaseMissingTitle.get(language)}>
            { missing }
            { step }
        </section>
    }
}

/// What rendering one stage's panel needs.
struct PanelContext<'a> {
    page: &'a CasePage,
    stage: Stage,
    state: StepState,
    shown: bool,
    editor: Option<Editor>,
    generations: &'a BTreeMap<CaseRecordKind, u32>,
    language: Language,
    on_saved: Callback<CaseRecordKind>,
    on_edited: Callback<(Uuid, Text)>,
    on_said: Callback<Text>,
    set_editor: Callback<Option<Editor>>,
}

/// A step's panel: its records and the forms that add them (hidden unless its step is picked,
/// so that what is typed stays).
fn panel(cx: PanelContext<'_>) -> Html {
    let PanelContext { page, stage, state, shown, editor, generations, language, .. } = cx;
    let forms = offers_forms(page, state);
    let kinds = kinds_at(stage).into_iter().map(|kind| {
        let generation = generations.get(&kind).copied().unwrap_or_default();
        let list = records_list(&cx, kind);
        let form = forms.then(|| {
            html! {
                <NewRecordForm key={format!("{}-{generation}", kind_slug(kind))} case_id={page.case.id} {kind}
                    on_saved={cx.on_saved.clone()} />
            }
        });
        html! {
            <div class="stage-kind">
                <h3>{ label(kind.entity_kind(), language) }</h3>
                { list }
                { form.unwrap_or_default() }
            </div>
        }
    });
    let later =
        (state == StepState::Upcoming).then(|| html! { <p class="muted">{ Text::CaseStageLater.get(language) }</p> });
    let extra = match stage {
        Stage::Plan => strategy(&cx, forms),
        Stage::FollowUp => evaluations(&cx, forms, editor),
        Stage::Closed => closed_summary(page, language),
        _ => Html::default(),
    };
    html! {
        <section id={panel_id(stage)} class="stage-panel" hidden={!shown} aria-labelledby={step_id(stage)}>
            <h2>{ label(stage, language) }</h2>
            { later.unwrap_or_default() }
            { for kinds }
            { extra }
        </section>
    }
}

/// A kind's records in the order recorded, corrected ones marked and kept.
fn records_list(cx: &PanelContext<'_>, kind: CaseRecordKind) -> Html {
    let language = cx.language;
    let records = cx.page.records.of(kind);
    if records.is_empty() {
        return html! {
            <div id={records_id(kind)} class="records"><p class="muted">{ Text::CaseNoRecords.get(language) }</p></div>
        };
    }
    let items = records.iter().map(|record| record_item(cx, record));
    html! { <ul id={records_id(kind)} class="records">{ for items }</ul> }
}

fn record_item(cx: &PanelContext<'_>, record: &CaseRecordView) -> Html {
    let language = cx.language;
    let lines = record_lines(record, language).into_iter().map(|(spec, shown)| {
        html! { <div><dt>{ crate::i18n::field_label(spec, language) }</dt><dd>{ shown }</dd></div> }
    });
    // A link into the plan names its library resource, and leads to its page.
    let resource = record.resource.as_ref().zip(RESOURCE_LINK.field(field::resource_link::RESOURCE_ID)).map(
        |(resource, spec)| {
            html! {
                <div>
                    <dt>{ crate::i18n::field_label(spec, language) }</dt>
                    <dd><a id={format!("record-resource-{}", record.id)} href={Route::Resource { id: resource.id }.to_hash()}>
                        { resource.name.clone() }
                    </a></dd>
                </div>
            }
        },
    );
    let by = record.recorded_by.as_ref().map(|b| {
        html! { <span class="by">{ labelled(language, Text::CaseRecordedBy.get(language), &b.name) }</span> }
    });
    let corrected = record.corrected_by.map(|by| {
        let onclick = Callback::from(move |_: MouseEvent| focus_soon(record_id(by)));
        html! {
            <>
                <span class="tag warn">{ Text::CaseCorrected.get(language) }</span>
                <button type="button" class="link" {onclick}>{ Text::CaseSeeCorrection.get(language) }</button>
            </>
        }
    });
    let amends = record.amends.map(|original| {
        let onclick = Callback::from(move |_: MouseEvent| focus_soon(record_id(original)));
        html! {
            <>
                <span class="tag">{ Text::CaseCorrectionOf.get(language) }</span>
                <button type="button" class="link" {onclick}>{ Text::CaseSeeOriginal.get(language) }</button>
            </>
        }
    });
    let may_correct = cx.page.may_edit && record.corrected_by.is_none();
    let editing = cx.editor == Some(Editor::Correct(record.id));
    let button = (may_correct && !editing).then(|| {
        let (set_editor, id) = (cx.set_editor.clone(), record.id);
        let onclick = set_editor.reform(move |_: MouseEvent| Some(Editor::Correct(id)));
        let text = if record.kind.append_only() { Text::CaseCorrect } else { Text::CaseEdit };
        html! {
            <button type="button" id={format!("correct-{}", record.id)} {onclick}>{ text.get(language) }</button>
        }
    });
    let form = (may_correct && editing).then(|| {
        let on_cancel = {
            let (set_editor, id) = (cx.set_editor.clone(), record.id);
            Callback::from(move |()| {
                set_editor.emit(None);
                focus_soon(format!("correct-{id}"));
            })
        };
        html! {
            <CorrectRecordForm key={record.id.to_string()} case_id={cx.page.case.id} record={record.clone()}
                on_done={cx.on_edited.clone()} {on_cancel} />
        }
    });
    html! {
        <li id={record_id(record.id)} class={classes!("record", record.corrected_by.map(|_| "corrected"))}
            tabindex="-1">
            <dl class="record-fields">{ resource.unwrap_or_default() }{ for lines }</dl>
            <div class="record-meta">
                { by.unwrap_or_default() }
                { corrected.unwrap_or_default() }
                { amends.unwrap_or_default() }
                { button.unwrap_or_default() }
            </div>
            { form.unwrap_or_default() }
        </li>
    }
}

/// The plan's intervention strategy: its form, or the text for someone who only reads.
fn strategy(cx: &PanelContext<'_>, forms: bool) -> Html {
    let language = cx.language;
    let Some(spec) = CASE.field(field::case::PLAN_STRATEGY) else { return Html::default() };
    let current = cx.page.case.plan_strategy.clone();
    let body = match forms {
        true => html! { <StrategyForm case_id={cx.page.case.id} {current} on_said={cx.on_said.clone()} /> },
        false => html! { <p id="plan-strategy">{ current.unwrap_or_default() }</p> },
    };
    html! {
        <div class="stage-kind strategy">
            <h3>{ crate::i18n::field_label(spec, language) }</h3>
            { body }
        </div>
    }
}

/// At follow-up: each goal of the plan with its evaluation, and the form evaluating it.
fn evaluations(cx: &PanelContext<'_>, forms: bool, editor: Option<Editor>) -> Html {
    let language = cx.language;
    let goals = standing(&cx.page.records.goals).map(|goal| {
        let description = goal.fields.get(field::goal::DESCRIPTION).and_then(|v| v.as_str()).unwrap_or_default();
        let evaluation = record_lines(goal, language)
            .into_iter()
            .filter(|(spec, _)| [field::goal::EVALUATION, field::goal::EVALUATION_NOTES].contains(&spec.name))
            .map(|(_, shown)| shown)
            .collect::<Vec<_>>()
            .join(" — ");
        let evaluated = !evaluation.is_empty();
        let editing = editor == Some(Editor::Evaluate(goal.id));
        let button = (forms && !editing).then(|| {
            let (set_editor, id) = (cx.set_editor.clone(), goal.id);
            let onclick = set_editor.reform(move |_: MouseEvent| Some(Editor::Evaluate(id)));
            html! {
                <button type="button" id={format!("evaluate-{}", goal.id)} {onclick}>{ Text::CaseEvaluate.get(language) }</button>
            }
        });
        let form = (forms && editing).then(|| {
            let on_cancel = {
                let (set_editor, id) = (cx.set_editor.clone(), goal.id);
                Callback::from(move |()| {
                    set_editor.emit(None);
                    focus_soon(format!("evaluate-{id}"));
                })
            };
            html! {
                <EvaluateGoalForm key={goal.id.to_string()} goal={goal.clone()} on_done={cx.on_edited.clone()} {on_cancel} />
            }
        });
        html! {
            <li id={format!("goal-evaluation-{}", goal.id)} class={classes!("record", (!evaluated).then_some("pending"))}>
                <span class="name">{ description.to_string() }</span>{ " " }
                <span class={classes!("evaluation", (!evaluated).then_some("muted"))}>
                    { if evaluated { evaluation } else { Text::CaseNotEvaluated.get(language).to_string() } }
                </span>{ " " }
                { button.unwrap_or_default() }
                { form.unwrap_or_default() }
            </li>
        }
    });
    html! {
        <div class="stage-kind evaluations">
            <h3>{ Text::CaseGoalsToEvaluate.get(language) }</h3>
            <ul id="case-goal-evaluations" class="records">{ for goals }</ul>
        </div>
    }
}

/// The closed step: the worker's summary and when it was requested.
fn closed_summary(page: &CasePage, language: Language) -> Html {
    let Some(summary) = page.case.closure_summary.clone() else { return Html::default() };
    html! {
        <div class="stage-kind">
            <h3>{ Text::CaseClosureSummary.get(language) }</h3>
            <p id="closure-summary-text">{ summary }</p>
            { page.case.closure_requested_on.map(|on| html! {
                <p class="muted">{ labelled(language, Text::CaseRequestedOn.get(language), on) }</p>
            }).unwrap_or_default() }
        </div>
    }
}
