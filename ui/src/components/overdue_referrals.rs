//! The deputy head's panel on the case board: the station's referrals without an outcome more
//! than the station's threshold of days after they were made, longest waiting first, each
//! linking to the referrals page; and the threshold itself.
//!
//! Ids: `#overdue-referrals`, each row `#overdue-referral-<id>`, `#overdue-referrals-none`,
//! `#referral-overdue-days`, `#referral-overdue-days-save`, `#referral-overdue-days-error`.

use contract::command::{NoArgs, OverdueReferrals, SetReferralOverdueDays, SetReferralOverdueDaysArgs};
use contract::{Language, ReferralRow};
use yew::prelude::*;

use crate::app::use_app;
use crate::hooks::{keep_typed, use_action, use_command};
use crate::i18n::{Text, label};
use crate::pages::board::parse_stall_days;
use crate::route::Route;

pub fn overdue_row_id(row: &ReferralRow) -> String {
    format!("overdue-referral-{}", row.id)
}

/// "N days without an outcome (threshold T)".
pub fn waiting_text(days: i64, language: Language) -> String {
    match language {
        Language::Zh => format!("已 {days} 天未办结"),
        Language::En if days == 1 => "1 day without an outcome".into(),
        Language::En => format!("{days} days without an outcome"),
    }
}

#[function_component(OverdueReferralsPanel)]
pub fn overdue_referrals_panel() -> Html {
    let app = use_app();
    let language = app.language;
    let overdue = use_command::<OverdueReferrals, _>(NoArgs {}, app.data_version);
    let body = match (overdue.data(), overdue.error()) {
        (Some(o), _) => {
            let reload = {
                let overdue = overdue.clone();
                Callback::from(move |_: ()| overdue.reload())
            };
            html! {
                <>
                    if o.may_set_overdue_days {
                        <ThresholdForm days={o.overdue_days} set={o.overdue_days_set} on_saved={reload} />
                    }
                    if o.rows.is_empty() {
                        <p id="overdue-referrals-none" class="muted">{ Text::OverdueReferralsNone.get(language) }</p>
                    } else {
                        <ul class="overdue-referrals">
                            { for o.rows.iter().map(|row| {
                                let person = row.recipient.as_ref().map(|r| r.name.clone())
                                    .or(row.person_name.clone()).unwrap_or_default();
                                html! {
                                    <li id={overdue_row_id(row)}>
                                        <a href={Route::Referrals.to_hash()}>
                                            { format!("{} · {} · {} · {}", row.referred_on, label(row.direction, language),
                                                label(row.counterpart, language), person) }
                                        </a>
                                        { " " }{ &row.reason }{ " " }
                                        <span class="badge warn">
                                            { format!("{} · {}", label(row.state, language), waiting_text(row.days, language)) }
                                        </span>
                                    </li>
                                }
                            }) }
                        </ul>
                    }
                </>
            }
        }
        (None, Some(error)) => html! { <p class="error" role="alert">{ error.message(language).to_string() }</p> },
        (None, None) => html! { <p class="muted">{ Text::Loading.get(language) }</p> },
    };
    html! {
        <section id="overdue-referrals" class="panel" aria-labelledby="overdue-referrals-title">
            <h2 id="overdue-referrals-title">{ Text::OverdueReferralsTitle.get(language) }</h2>
            { body }
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct ThresholdProps {
    days: i64,
    set: bool,
    on_saved: Callback<()>,
}

#[function_component(ThresholdForm)]
fn threshold_form(props: &ThresholdProps) -> Html {
    let app = use_app();
    let language = app.language;
    let typed = use_state(|| if props.set { props.days.to_string() } else { String::new() });
    let invalid = use_state(|| false);
    let saved = use_state(|| false);
    let action = use_action::<SetReferralOverdueDays>();
    let on_input = keep_typed(&typed);
    let on_submit = {
        let (typed, invalid, saved, action, done) =
            (typed.clone(), invalid.clone(), saved.clone(), action.clone(), props.on_saved.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            saved.set(false);
            match parse_stall_days(&typed) {
                Err(()) => invalid.set(true),
                Ok(days) => {
                    invalid.set(false);
                    let (done, saved) = (done.clone(), saved.clone());
                    action.run(SetReferralOverdueDaysArgs { days }, move |()| {
                        saved.set(true);
                        done.emit(());
                    });
                }
            }
        })
    };
    let error = if *invalid {
        Some(Text::OverdueReferralDaysInvalid.get(language).to_string())
    } else {
        action.error.as_ref().map(|e| e.message(language).to_string())
    };
    html! {
        <form id="referral-overdue-form" class="filters" onsubmit={on_submit}>
            <div class="field inline">
                <label for="referral-overdue-days">{ Text::OverdueReferralDays.get(language) }</label>
                <input id="referral-overdue-days" type="number" min="1" max="365" inputmode="numeric"
                    value={(*typed).clone()} placeholder={props.days.to_string()} oninput={on_input}
                    aria-invalid={error.is_some().then_some("true")} />
            </div>
            <button type="submit" id="referral-overdue-days-save" disabled={action.busy}>{ Text::Save.get(language) }</button>
            if *saved {
                <span class="notice" role="status">{ Text::OverdueReferralDaysSaved.get(language) }</span>
            }
            if let Some(error) = error {
                <p class="error" id="referral-overdue-days-error" role="alert">{ error }</p>
            }
        </form>
    }
}
