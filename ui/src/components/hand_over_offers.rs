//! Changes handed over to the signed-in user (`hand_over_offers`): another worker's changes the
//! server refused because their case had been reassigned while that worker was offline, offered
//! to the case's current worker (on the case page) and the station's deputy heads (on the board).
//! Each with what was recorded, who recorded it, and two buttons: take over (the content recorded
//! as the user's own change) or dismiss. The decision reaches the server with the next sync.
//! Shows nothing when there are none.
//!
//! Ids: `#handed-over-offers`, `#offer-<change id>`, `#take-over-<change id>`,
//! `#dismiss-offer-<change id>`, `#offer-error`.

use contract::command::{self, DismissOffer, HandOverOffersArgs, OfferArgs, TakeOverOffer};
use uuid::Uuid;
use yew::prelude::*;

use crate::app::use_app;
use crate::hooks::{use_action, use_command};
use crate::i18n::{Text, label};
use crate::route::Route;
use crate::time::local_date_time;

#[derive(Properties, PartialEq)]
pub struct Props {
    /// The case whose offers to show; `None`: every offer (the board).
    #[prop_or_default]
    pub case_id: Option<Uuid>,
}

#[function_component(HandOverOffersPanel)]
pub fn hand_over_offers(props: &Props) -> Html {
    let app = use_app();
    let language = app.language;
    let case_id = props.case_id;
    let list = use_command::<command::HandOverOffers, _>(HandOverOffersArgs { case_id }, (case_id, app.data_version));
    let take = use_action::<TakeOverOffer>();
    let dismiss = use_action::<DismissOffer>();
    let Some(offers) = list.data().filter(|l| !l.is_empty()) else { return Html::default() };
    let busy = take.busy || dismiss.busy;
    let items = offers.iter().map(|offer| {
        let id = offer.change_id;
        let on_take = {
            let (take, list) = (take.clone(), list.clone());
            Callback::from(move |_: MouseEvent| {
                let list = list.clone();
                take.run(OfferArgs { change_id: id }, move |_| list.reload());
            })
        };
        let on_dismiss = {
            let (dismiss, list) = (dismiss.clone(), list.clone());
            Callback::from(move |_: MouseEvent| {
                let list = list.clone();
                dismiss.run(OfferArgs { change_id: id }, move |_| list.reload());
            })
        };
        let author = offer.author_name.clone().unwrap_or_default();
        let fields = offer.fields.iter().map(|f| {
            let name = match language {
                contract::Language::Zh => f.label_zh.clone(),
                contract::Language::En => f.label_en.clone(),
            };
            html! { <li>{ format!("{name}：{}", f.value) }</li> }
        });
        html! {
            <li id={format!("offer-{id}")} class="card wide">
                <p>
                    <strong>{ label(offer.kind, language) }</strong>
                    if let Some(name) = &offer.recipient_name { { format!(" · {name}") } }
                    if case_id.is_none() {
                        { " · " }<a href={Route::Case { id: offer.case_id }.to_hash()}>{ label(domain::entity::EntityKind::Case, language) }</a>
                    }
                </p>
                <p class="muted">
                    { format!("{} {author} · {}", Text::OfferRecordedBy.get(language), local_date_time(offer.refused_at, language)) }
                </p>
                <ul class="plain">{ for fields }</ul>
                if offer.may_decide {
                    <button id={format!("take-over-{id}")} type="button" disabled={busy} onclick={on_take}>
                        { Text::OfferTakeOver.get(language) }
                    </button>
                    { " " }
                    <button id={format!("dismiss-offer-{id}")} type="button" disabled={busy} onclick={on_dismiss}>
                        { Text::OfferDismiss.get(language) }
                    </button>
                }
            </li>
        }
    });
    let error = take.error.as_ref().or(dismiss.error.as_ref());
    html! {
        <section id="handed-over-offers" aria-labelledby="handed-over-offers-title">
            <h2 id="handed-over-offers-title">{ Text::OffersTitle.get(language) }</h2>
            <p class="muted">{ Text::OffersIntro.get(language) }</p>
            { error.map(|e| html! { <p id="offer-error" class="error" role="alert">{ e.message(language) }</p> }).unwrap_or_default() }
            <ul class="plain">{ for items }</ul>
        </section>
    }
}
