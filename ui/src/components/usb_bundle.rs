//! Sync by USB stick (U盘同步), on the waiting-changes page: export this laptop's outbox as a
//! bundle file, relay a bundle at the station (online), import a return bundle. Each is a small
//! form (Enter submits) with its path box (`#bundle-export-path`, `#bundle-relay-path`,
//! `#bundle-import-path`), its button (`#bundle-export`, `#bundle-relay`, `#bundle-import`) and
//! its error (`#error-bundle-export`, ...); what was done shows in `#bundle-result`. What was
//! typed stays after an error.

use contract::command::{BundlePathArgs, Command, ExportBundle, ImportBundle, RelayBundle};
use contract::{BundleExportView, BundleImportView, BundleRelayView, CommandError, Language};
use yew::prelude::*;

use crate::app::use_app;
use crate::hooks::{UseActionHandle, keep_typed, use_action};
use crate::i18n::Text;

/// What the last action did, in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Done {
    pub zh: String,
    pub en: String,
}

impl Done {
    fn get(&self, language: Language) -> &str {
        match language {
            Language::Zh => &self.zh,
            Language::En => &self.en,
        }
    }
}

pub fn exported(view: &BundleExportView) -> Done {
    Done {
        zh: format!("已导出同步包（{} 条修改）：{}", view.changes, view.path),
        en: format!("Bundle written ({} changes): {}", view.changes, view.path),
    }
}

pub fn relayed(view: &BundleRelayView) -> Done {
    let again = (view.answered_before > 0).then(|| {
        (
            format!("，其中 {} 条服务器此前已处理（此包已转交过），未重复写入", view.answered_before),
            format!(
                "; {} had been answered before (this bundle was relayed already) and changed nothing",
                view.answered_before
            ),
        )
    });
    let (again_zh, again_en) = again.unwrap_or_default();
    Done {
        zh: format!("已转交 {} 条修改{again_zh}。回程包：{}", view.changes, view.path),
        en: format!("Relayed {} changes{again_en}. Return bundle: {}", view.changes, view.path),
    }
}

pub fn imported(view: &BundleImportView) -> Done {
    let (more_zh, more_en) = if view.more_waiting {
        (
            "服务器还有更多数据：请再导出一次同步包，或联网同步。",
            " The server has more: export another bundle, or sync online.",
        )
    } else {
        ("", "")
    };
    Done {
        zh: format!(
            "已导入回程包：服务器接收 {} 条、拒收 {} 条，收到 {} 条新数据。{more_zh}",
            view.accepted, view.rejected, view.pulled
        ),
        en: format!(
            "Return bundle imported: {} accepted, {} refused by the server, {} records received.{more_en}",
            view.accepted, view.rejected, view.pulled
        ),
    }
}

#[derive(Properties, PartialEq)]
struct PathFormProps {
    /// `export`, `relay` or `import`: the ids' middle part.
    id: &'static str,
    label: Text,
    button: Text,
    busy: bool,
    error: Option<CommandError>,
    on_submit: Callback<String>,
}

#[function_component(PathForm)]
fn path_form(props: &PathFormProps) -> Html {
    let language = use_app().language;
    let typed = use_state(String::new);
    let input_id = format!("bundle-{}-path", props.id);
    let error_id = format!("error-bundle-{}", props.id);
    let onsubmit = {
        let (typed, on_submit) = (typed.clone(), props.on_submit.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            on_submit.emit((*typed).clone());
        })
    };
    let error = props.error.as_ref().map(|e| {
        html! { <p id={error_id.clone()} class="error" role="alert">{ e.message(language) }</p> }
    });
    html! {
        <form class="bundle-form" {onsubmit}>
            <label for={input_id.clone()}>{ props.label.get(language) }</label>
            <input id={input_id} type="text" value={(*typed).clone()} oninput={keep_typed(&typed)}
                aria-invalid={error.is_some().to_string()} aria-describedby={error_id.clone()} />
            <button type="submit" id={format!("bundle-{}", props.id)} disabled={props.busy}>
                { if props.busy { Text::UsbWorking.get(language) } else { props.button.get(language) } }
            </button>
            { error.unwrap_or_default() }
        </form>
    }
}

/// Runs `action` on the path submitted; what it did goes to `done`.
fn runner<C>(
    action: &UseActionHandle<C>,
    done: &UseStateHandle<Option<Done>>,
    describe: fn(&C::Output) -> Done,
) -> Callback<String>
where
    C: Command<Args = BundlePathArgs> + 'static,
{
    let (action, done) = (action.clone(), done.clone());
    Callback::from(move |path: String| {
        let done = done.clone();
        done.set(None);
        action.run(BundlePathArgs { path }, move |view| done.set(Some(describe(&view))));
    })
}

#[function_component(UsbBundle)]
pub fn usb_bundle() -> Html {
    let language = use_app().language;
    let export = use_action::<ExportBundle>();
    let relay = use_action::<RelayBundle>();
    let import = use_action::<ImportBundle>();
    let done = use_state(|| None::<Done>);
    html! {
        <section id="usb-bundle" aria-labelledby="usb-bundle-title">
            <h2 id="usb-bundle-title">{ Text::UsbTitle.get(language) }</h2>
            <p class="subtitle">{ Text::UsbHint.get(language) }</p>
            <PathForm id="export" label={Text::UsbExportPath} button={Text::UsbExport}
                busy={export.busy} error={export.error.clone()} on_submit={runner(&export, &done, exported)} />
            <PathForm id="relay" label={Text::UsbRelayPath} button={Text::UsbRelay}
                busy={relay.busy} error={relay.error.clone()} on_submit={runner(&relay, &done, relayed)} />
            <PathForm id="import" label={Text::UsbImportPath} button={Text::UsbImport}
                busy={import.busy} error={import.error.clone()} on_submit={runner(&import, &done, imported)} />
            { (*done).as_ref().map(|d| html! { <p id="bundle-result" role="status">{ d.get(language) }</p> }).unwrap_or_default() }
        </section>
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;

    #[test]
    fn a_relay_of_a_bundle_relayed_before_says_so_in_both_languages() {
        let view = BundleRelayView {
            path: "/u/x-return.sgbundle".into(),
            device_id: Uuid::nil(),
            changes: 3,
            answered_before: 3,
        };
        let done = relayed(&view);
        assert!(done.zh.contains("此包已转交过") && done.en.contains("relayed already"), "{done:?}");
        let fresh = relayed(&BundleRelayView { answered_before: 0, ..view });
        assert!(!fresh.zh.contains("已转交过") && fresh.en.ends_with("x-return.sgbundle"));
    }

    #[test]
    fn an_import_that_left_more_on_the_server_says_what_to_do() {
        let view = BundleImportView { accepted: 2, rejected: 1, pulled: 40, more_waiting: true };
        let done = imported(&view);
        assert!(done.zh.contains("拒收 1 条") && done.zh.contains("再导出"), "{done:?}");
        assert!(done.en.contains("1 refused") && done.en.contains("export another bundle"));
    }
}
