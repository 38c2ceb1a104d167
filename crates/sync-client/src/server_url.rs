//! Which sync server addresses the client talks to. Plain `http://` sends the password and the
//! tokens in the clear, so it is refused unless the server is on this computer (loopback:
//! `127.0.0.0/8`, `::1`, `localhost`) or plain HTTP was allowed explicitly: the
//! [`ALLOW_INSECURE_HTTP_ENV`] environment variable, or [`allow_insecure_http`] (the app's
//! setting).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::atomic::{AtomicBool, Ordering};

use reqwest::Url;

/// Set to `1` (or `true`, `yes`) to allow plain HTTP to a server on another computer.
pub const ALLOW_INSECURE_HTTP_ENV: &str = "SHEGONG_ALLOW_INSECURE_HTTP";

static ALLOWED_BY_SETTING: AtomicBool = AtomicBool::new(false);

/// Allows (or forbids again) plain HTTP to servers on other computers for this process: the
/// app's setting, read at start.
pub fn allow_insecure_http(allow: bool) {
    ALLOWED_BY_SETTING.store(allow, Ordering::Relaxed);
}

/// Whether plain HTTP to other computers is allowed: by the setting or by the environment.
pub fn insecure_http_allowed() -> bool {
    ALLOWED_BY_SETTING.load(Ordering::Relaxed)
        || std::env::var(ALLOW_INSECURE_HTTP_ENV)
            .is_ok_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
}

/// A server address refused because it is plain HTTP to another computer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("plain HTTP to a sync server on another computer is refused (use https://): {url}")]
pub struct InsecureServerUrl {
    pub url: String,
}

impl InsecureServerUrl {
    pub const CODE: &'static str = "insecure_server_url";

    pub fn message_zh(&self) -> String {
        "同步服务器地址不安全：连接其他计算机上的服务器须使用 https://（明文 http 会泄露密码）。如确需使用 http，请由管理员在设置中允许。"
            .into()
    }

    pub fn message_en(&self) -> String {
        "The sync server address is not secure: a server on another computer must be reached with https:// (plain http would expose the password). An administrator can allow http in the settings if it is really needed."
            .into()
    }
}

/// Whether the address names this computer.
fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else { return false };
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6.parse::<Ipv6Addr>().is_ok_and(is_loopback_v6);
    }
    if let Ok(v4) = host.parse::<Ipv4Addr>() {
        return v4.is_loopback();
    }
    host.trim_end_matches('.').eq_ignore_ascii_case("localhost")
}

fn is_loopback_v6(ip: Ipv6Addr) -> bool {
    IpAddr::V6(ip).is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
}

/// Checks a server address (as it will be requested) against the rule, with plain HTTP to other
/// computers allowed or not. Addresses that are not URLs, or not HTTP at all, pass: the request
/// itself fails on them, as before.
pub fn check_server_url(url: &str, allow_insecure: bool) -> Result<(), InsecureServerUrl> {
    let Ok(parsed) = Url::parse(url.trim()) else { return Ok(()) };
    if parsed.scheme() != "http" || allow_insecure || is_loopback(&parsed) {
        return Ok(());
    }
    Err(InsecureServerUrl { url: url.to_string() })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn refused(url: &str) -> bool {
        check_server_url(url, false).is_err()
    }

    #[test]
    fn plain_http_to_this_computer_is_allowed() {
        for url in [
            "http://127.0.0.1:7878",
            "http://127.8.9.10/",
            "http://localhost:7878/v1/auth/login",
            "http://LOCALHOST",
            "http://[::1]:7878",
            "http://[::ffff:127.0.0.1]:7878",
        ] {
            assert!(!refused(url), "{url}");
        }
    }

    #[test]
    fn plain_http_to_another_computer_is_refused() {
        for url in [
            "http://192.168.1.10:7878",
            "http://sync.example.cn",
            "http://128.0.0.1",
            "http://[::2]",
            "http://localhost.example.cn",
            // The part before `@` is a user name, not the host.
            "http://127.0.0.1:7878@evil.example.cn/",
            "  HTTP://10.0.0.1  ",
        ] {
            assert!(refused(url), "{url}");
        }
    }

    #[test]
    fn https_is_always_allowed_and_the_setting_allows_http() {
        assert!(!refused("https://sync.example.cn"));
        assert!(!refused("https://192.168.1.10:7878"));
        assert_eq!(check_server_url("http://192.168.1.10:7878", true), Ok(()));
    }

    #[test]
    fn the_refusal_has_a_code_and_both_languages() {
        let error = check_server_url("http://10.0.0.1", false).expect_err("refused");
        assert_eq!(InsecureServerUrl::CODE, "insecure_server_url");
        assert!(error.message_zh().contains("https://"));
        assert!(error.message_en().contains("https://"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn any_string_is_checked_without_panicking(text in any::<String>(), allow in any::<bool>()) {
            let _ = check_server_url(&text, allow);
            let _ = check_server_url(&format!("http://{}", text), allow);
            let _ = check_server_url(&format!("http://{}/v1/pull", text), allow);
        }

        #[test]
        fn http_with_any_host_but_loopback_is_refused(a in 0u8..=255, b in 0u8..=255, c in 0u8..=255, d in 0u8..=255) {
            let host = format!("{}.{}.{}.{}", a, b, c, d);
            prop_assert_eq!(refused(&format!("http://{}:7878", host)), a != 127);
            let secure = format!("https://{}:7878", host);
            prop_assert!(!refused(&secure));
        }
    }
}
