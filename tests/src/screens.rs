//! Steps through the app's screens that several end-to-end tests take: signing in, going to a
//! route, setting a date or a select, pressing a button by keyboard, and walking a case's
//! stages (a stage record saved, the move to the next stage, the closure request at follow-up).
//! Each waits with the harness's timeout (see [`crate::webdriver`]).

use std::time::{Duration, Instant};

use serde_json::Value;
use thirtyfour::prelude::*;

use crate::webdriver::{STEP_TIMEOUT, capture_page_errors, click, type_into, wait_for, wait_for_text, wait_gone};
use crate::{HarnessError, Result};

/// Signs in on the sign-in screen and waits until the role's first screen shows `home` (a CSS
/// selector: `#roster-table`, `#closure-queue`, `#case-board`, ...).
pub async fn sign_in(driver: &WebDriver, username: &str, password: &str, home: &str) -> Result<()> {
    wait_for(driver, "#username").await?;
    capture_page_errors(driver).await?;
    type_into(driver, "#username", username).await?;
    type_into(driver, "#password", TypingData::from(password) + Key::Enter).await?;
    wait_for(driver, home).await?;
    Ok(())
}

/// Goes to a route (`#/cases/<id>`, `#/closures`, ...), as following a link there does.
pub async fn go_to(driver: &WebDriver, hash: &str) -> Result<()> {
    driver.execute("location.hash = arguments[0];", vec![Value::from(hash)]).await?;
    Ok(())
}

/// The id the current route names after its first segment (`#/cases/<id>` → `<id>`).
pub async fn route_id(driver: &WebDriver) -> Result<String> {
    let id = driver.execute("return location.hash.split('/')[2] || '';", Vec::new()).await?;
    match id.json().as_str() {
        Some(id) if !id.is_empty() => Ok(id.to_string()),
        _ => Err(HarnessError::Ui("the route names no record".into())),
    }
}

/// Sets a field's value the way a paste or a date picker does (one input and change event):
/// date inputs and selects take no typed keys under WebKitWebDriver.
pub async fn set(driver: &WebDriver, css: &str, value: &str) -> Result<()> {
    let script = "const e = document.querySelector(arguments[0]); if (!e) return false; e.focus(); \
                  e.value = arguments[1]; e.dispatchEvent(new InputEvent('input', {bubbles: true})); \
                  e.dispatchEvent(new Event('change', {bubbles: true})); return true;";
    let found = driver.execute(script, vec![Value::from(css), Value::from(value)]).await?;
    if found.json().as_bool() != Some(true) {
        return Err(HarnessError::Ui(format!("no field {css}")));
    }
    Ok(())
}

/// Focuses a button and presses Enter on it, as a keyboard user does.
pub async fn press(driver: &WebDriver, css: &str) -> Result<()> {
    let button = wait_for(driver, css).await?;
    driver.execute("arguments[0].focus();", vec![button.to_json()?]).await?;
    button.send_keys(TypingData::from(Key::Enter)).await?;
    Ok(())
}

/// The text of the element matching `css`, once there is one.
pub async fn text_of(driver: &WebDriver, css: &str) -> Result<String> {
    Ok(wait_for(driver, css).await?.text().await?)
}

/// On the case page: fills a stage's form (`#record-form-<kind>`, fields `#<kind>-<field>`) and
/// saves it, then waits for a record in its list.
pub async fn save_record(driver: &WebDriver, kind: &str, fields: &[(&str, &str)]) -> Result<()> {
    wait_for(driver, &format!("#record-form-{kind}")).await?;
    for (name, value) in fields {
        set(driver, &format!("#{kind}-{name}"), value).await?;
    }
    click(driver, &format!("#{kind}-save")).await?;
    wait_for(driver, &format!("#case-records-{kind} [id^='record-']")).await?;
    Ok(())
}

/// On the case page: moves the case on to the stage `to` (its slug: `assess`, `follow_up`, ...)
/// once nothing is missing, and shows that stage's step.
pub async fn move_on(driver: &WebDriver, to: &str) -> Result<()> {
    wait_for(driver, "#case-ready").await?;
    click(driver, "#move-next-stage").await?;
    wait_for(driver, &format!("#step-{to}[aria-current]")).await?;
    click(driver, &format!("#step-{to}")).await?;
    Ok(())
}

/// On the case page at follow-up, with its follow-up visit recorded: evaluates the plan's
/// (first) goal as achieved, by keyboard, and requests closure with `summary`; waits until the
/// page says the request is pending.
pub async fn request_closure(driver: &WebDriver, summary: &str) -> Result<()> {
    // By keyboard: the page moves the focus to the emptied form just after a save.
    press(driver, "#case-goal-evaluations button[id^='evaluate-']").await?;
    wait_for(driver, "#evaluate-form").await?;
    set(driver, "#evaluate-evaluation", "Achieved").await?;
    click(driver, "#evaluate-save").await?;
    wait_gone(driver, "#evaluate-form").await?;
    wait_for(driver, "#case-ready").await?;
    wait_for(driver, "#closure-form").await?;
    set(driver, "#closure-summary", summary).await?;
    click(driver, "#request-closure").await?;
    wait_for(driver, "#closure-pending").await?;
    Ok(())
}

/// Syncs now (the status bar's button) and waits for a round that ended after the click, with
/// nothing left waiting to be sent and the status bar saying online. (The bar polls the shell;
/// its `#sync-last` carries the exact end of the last round in `data-at`.)
pub async fn sync_now(driver: &WebDriver) -> Result<()> {
    let clicked = driver.execute("return Date.now();", Vec::new()).await?.json().as_f64().unwrap_or_default();
    click(driver, "#sync-now").await?;
    let last_round = "const e = document.getElementById('sync-last'); \
                      return e && e.dataset.at ? Date.parse(e.dataset.at) : 0;";
    let start = Instant::now();
    loop {
        let ended = driver.execute(last_round, Vec::new()).await?.json().as_f64().unwrap_or_default();
        if ended >= clicked {
            break;
        }
        if start.elapsed() > STEP_TIMEOUT {
            return Err(HarnessError::Timeout {
                what: "a sync round after the click".into(),
                seconds: STEP_TIMEOUT.as_secs(),
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    wait_for_text(driver, "#sync-pending", "nothing waiting", |t| t.trim() == "0").await?;
    wait_for_text(driver, "#sync-online", "online", |t| t.contains("在线")).await?;
    Ok(())
}

/// On a person's file: changes their phone number and waits until the file shows it.
pub async fn change_phone(driver: &WebDriver, recipient: uuid::Uuid, phone: &str) -> Result<()> {
    go_to(driver, &format!("#/recipients/{recipient}")).await?;
    wait_for(driver, &format!("#recipient-file[data-id='{recipient}']")).await?;
    click(driver, "#edit-recipient").await?;
    wait_for(driver, "#recipient-form").await?;
    type_into(driver, "#phone", phone).await?;
    click(driver, "#save").await?;
    wait_for_text(driver, "#recipient-phone", "the new phone number", |t| t.contains(phone)).await?;
    Ok(())
}
