//! Printing to PDF: a person's file (on the file page) and a closed case (on the case page), each
//! written by the shell into the reports folder; the file's name and the folder are shown.
//!
//! Ids: `#print-recipient-file`, `#print-case`, `#print-result` (`#print-file-name`,
//! `#print-folder`), `#print-error`.

use contract::command::{CaseIdArgs, PrintClosedCase, PrintRecipientFile, RecipientIdArgs};
use contract::{ExportedFile, Language};
use uuid::Uuid;
use yew::prelude::*;

use crate::app::use_app;
use crate::hooks::use_action;

/// What is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrintTarget {
    RecipientFile(Uuid),
    ClosedCase(Uuid),
}

#[derive(Properties, PartialEq)]
pub struct PrintProps {
    pub target: PrintTarget,
}

fn result(file: &ExportedFile, language: Language) -> Html {
    let (written, folder) = match language {
        Language::Zh => ("已生成 PDF：", "保存在此文件夹："),
        Language::En => ("PDF written: ", "Saved in this folder: "),
    };
    html! {
        <div id="print-result" class="notice" role="status">
            { written }<strong id="print-file-name">{ &file.file_name }</strong>
            { " " }{ folder }<code id="print-folder">{ &file.folder }</code>
        </div>
    }
}

/// A "print to PDF" button with what it wrote.
#[function_component(PrintButton)]
pub fn print_button(props: &PrintProps) -> Html {
    let language = use_app().language;
    let recipient = use_action::<PrintRecipientFile>();
    let case = use_action::<PrintClosedCase>();
    let printed = use_state(|| None::<ExportedFile>);
    let (id, text, busy, error) = match props.target {
        PrintTarget::RecipientFile(_) => (
            "print-recipient-file",
            ("打印档案（PDF）", "Print the file (PDF)"),
            recipient.busy,
            recipient.error.clone(),
        ),
        PrintTarget::ClosedCase(_) => {
            ("print-case", ("打印结案档案（PDF）", "Print the closed case (PDF)"), case.busy, case.error.clone())
        }
    };
    let onclick = {
        let (target, printed) = (props.target, printed.clone());
        Callback::from(move |_: MouseEvent| {
            let printed = printed.clone();
            let done = move |file: ExportedFile| printed.set(Some(file));
            match target {
                PrintTarget::RecipientFile(recipient_id) => recipient.run(RecipientIdArgs { recipient_id }, done),
                PrintTarget::ClosedCase(case_id) => case.run(CaseIdArgs { case_id }, done),
            }
        })
    };
    html! {
        <div class="print-action">
            <button type="button" {id} disabled={busy} {onclick}>
                { match language { Language::Zh => text.0, Language::En => text.1 } }
            </button>
            if let Some(error) = error {
                <p id="print-error" class="error" role="alert">{ error.message(language).to_string() }</p>
            }
            { printed.as_ref().map(|f| result(f, language)).unwrap_or_default() }
        </div>
    }
}
