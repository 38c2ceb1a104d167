//! Small WebDriver steps the end-to-end tests share: waiting for an element or a text (polling
//! with a timeout, never a fixed sleep), typing into a field, and saving a screenshot.

use std::time::{Duration, Instant};

use thirtyfour::prelude::*;

use crate::{HarnessError, Result, screenshot_dir};

/// How long a step waits for the UI before failing. Generous: the first start of a debug build
/// under Xvfb on a 2-core machine is slow.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(100);

/// The first element matching `css`, once there is one.
pub async fn wait_for(driver: &WebDriver, css: &str) -> Result<WebElement> {
    match driver.query(By::Css(css)).wait(STEP_TIMEOUT, POLL).desc(css).first().await {
        Ok(element) => Ok(element),
        Err(e) => {
            failure_screenshot(driver).await;
            Err(e.into())
        }
    }
}

/// Waits until an element matching `css` is gone.
pub async fn wait_gone(driver: &WebDriver, css: &str) -> Result<()> {
    Ok(driver.query(By::Css(css)).wait(STEP_TIMEOUT, POLL).desc(css).not_exists().await.map(|_| ())?)
}

/// Waits until `check` holds for the text of the element matching `css`; returns the text.
pub async fn wait_for_text(driver: &WebDriver, css: &str, what: &str, check: impl Fn(&str) -> bool) -> Result<String> {
    let start = Instant::now();
    let mut last = String::new();
    while start.elapsed() < STEP_TIMEOUT {
        if let Ok(element) = driver.find(By::Css(css)).await
            && let Ok(text) = element.text().await
        {
            if check(&text) {
                return Ok(text);
            }
            last = text;
        }
        tokio::time::sleep(POLL).await;
    }
    failure_screenshot(driver).await;
    Err(HarnessError::Timeout {
        what: format!("{css} to show {what} (last text: {last:?})"),
        seconds: STEP_TIMEOUT.as_secs(),
    })
}

/// Saves what the window shows when a step fails, as `<target>/e2e/failure-<n>.png`, and prints
/// the page's errors (see [`capture_page_errors`]).
async fn failure_screenshot(driver: &WebDriver) {
    static FAILURES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);
    let n = FAILURES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    if let Err(e) = screenshot(driver, &format!("failure-{n}")).await {
        eprintln!("could not save a screenshot of the failure: {e}");
    }
    let errors = driver.execute("return window.__shegongErrors || [];", Vec::new()).await;
    if let Ok(errors) = errors
        && let Some(errors) = errors.json().as_array()
        && !errors.is_empty()
    {
        eprintln!("the page's errors before failure-{n}: {errors:?}");
    }
}

/// From now on keeps the page's errors (uncaught exceptions, such as a panic in the UI's wasm,
/// rejected promises, `console.error`) in `window.__shegongErrors`; a failing step prints them.
pub async fn capture_page_errors(driver: &WebDriver) -> Result<()> {
    let script = "if (window.__shegongErrors) return; const errors = window.__shegongErrors = []; \
                  const text = (x) => (x && x.stack) ? String(x.stack) : String(x); \
                  window.addEventListener('error', (e) => errors.push(text(e.error || e.message))); \
                  window.addEventListener('unhandledrejection', (e) => errors.push(text(e.reason))); \
                  const original = console.error.bind(console); \
                  console.error = (...args) => { errors.push(args.map(text).join(' ')); original(...args); };";
    driver.execute(script, Vec::new()).await?;
    Ok(())
}

/// Runs one interaction with the element matching `css`, finding it afresh and trying again
/// when the UI re-rendered it in between (a stale element) until [`STEP_TIMEOUT`].
async fn with_element<T>(
    driver: &WebDriver,
    css: &str,
    action: impl AsyncFn(WebElement) -> WebDriverResult<T>,
) -> Result<T> {
    let start = Instant::now();
    loop {
        let element = wait_for(driver, css).await?;
        match action(element).await {
            Err(e) if is_stale(&e) && start.elapsed() < STEP_TIMEOUT => tokio::time::sleep(POLL).await,
            other => return Ok(other?),
        }
    }
}

fn is_stale(error: &WebDriverError) -> bool {
    matches!(error.as_inner(), thirtyfour::error::WebDriverErrorInner::StaleElementReference(_))
}

/// Clicks the element matching `css`.
pub async fn click(driver: &WebDriver, css: &str) -> Result<()> {
    // WebKitWebDriver refuses to click an element outside the viewport (a long page scrolled
    // past it) instead of scrolling to it as a user would.
    with_element(driver, css, async |element| {
        // The middle of the window: the status bar, fixed at the bottom, would take the click.
        driver.execute("arguments[0].scrollIntoView({block: 'center'});", vec![element.to_json()?]).await?;
        element.click().await
    })
    .await
}

/// Clears a field and types `text` into it (keys may include [`Key`]s, e.g. `Key::Enter`).
pub async fn type_into(driver: &WebDriver, css: &str, text: impl Into<TypingData>) -> Result<()> {
    let keys = text.into().as_vec();
    with_element(driver, css, async |field| {
        field.clear().await?;
        field.send_keys(keys.iter().collect::<String>()).await
    })
    .await
}

/// The current value of an input or select.
pub async fn value_of(driver: &WebDriver, css: &str) -> Result<String> {
    with_element(driver, css, async |field| Ok(field.prop("value").await?.unwrap_or_default())).await
}

/// Whether a checkbox (or option) is selected.
pub async fn is_selected(driver: &WebDriver, css: &str) -> Result<bool> {
    with_element(driver, css, async |element| element.is_selected().await).await
}

/// An attribute of the element matching `css`.
pub async fn attribute(driver: &WebDriver, css: &str, name: &str) -> Result<Option<String>> {
    with_element(driver, css, async |element| element.attr(name).await).await
}

/// Saves a screenshot of the window as `<target>/e2e/<name>.png`.
pub async fn screenshot(driver: &WebDriver, name: &str) -> Result<()> {
    // Let the page paint what the last step changed: WebKit screenshots the last painted frame.
    let next_frames =
        "const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));";
    driver.execute_async(next_frames, Vec::new()).await?;
    let path = screenshot_dir()?.join(format!("{name}.png"));
    driver.screenshot(&path).await?;
    eprintln!("screenshot: {}", path.display());
    Ok(())
}
