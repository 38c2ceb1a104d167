//! Where the admin CLI gets a password: never from its arguments (they show in `ps`, in shell
//! history and in process accounting) nor from the environment (inherited by every child and
//! readable in `/proc`). Typed at the terminal without echo, or — for scripts — one line on
//! standard input (`--password-stdin`, as `docker login` does).

use std::io::{BufRead, Read as _};

use crate::admin::AdminError;

/// The most a password line may hold; a longer "line" is a mistake (a file piped in).
const MAX_PASSWORD_BYTES: usize = 1024;

/// Reads one password from `input`: its first line without the line ending. Anything else on the
/// line (spaces included) is part of the password.
pub fn read_password_line(input: &mut impl BufRead) -> Result<String, AdminError> {
    let mut bytes = Vec::new();
    input
        .by_ref()
        .take(MAX_PASSWORD_BYTES as u64 + 2)
        .read_until(b'\n', &mut bytes)
        .map_err(|e| AdminError::Internal(format!("cannot read standard input: {e}")))?;
    if bytes.last() == Some(&b'\n') {
        bytes.pop();
        if bytes.last() == Some(&b'\r') {
            bytes.pop();
        }
    }
    if bytes.len() > MAX_PASSWORD_BYTES {
        return Err(invalid(
            format!("密码过长(最多{MAX_PASSWORD_BYTES}字节)"),
            format!("the password is too long (at most {MAX_PASSWORD_BYTES} bytes)"),
        ));
    }
    if bytes.is_empty() {
        return Err(invalid("标准输入中没有密码", "no password on standard input"));
    }
    String::from_utf8(bytes).map_err(|_| invalid("密码不是有效的 UTF-8 文本", "the password is not valid UTF-8 text"))
}

/// The password for an admin command: from standard input when `from_stdin`, otherwise typed
/// twice at the terminal without echo. Without a terminal and without `--password-stdin`, an
/// error that says how to give one.
pub fn read_password(from_stdin: bool) -> Result<String, AdminError> {
    if from_stdin {
        return read_password_line(&mut std::io::stdin().lock());
    }
    if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        return Err(invalid(
            "没有终端可输入密码:请在终端运行,或用 --password-stdin 从标准输入提供密码",
            "no terminal to type the password at: run this in a terminal, or give it on standard input with --password-stdin",
        ));
    }
    let prompt_error = |e: std::io::Error| AdminError::Internal(format!("cannot read the password: {e}"));
    let first = rpassword::prompt_password("新密码 / new password: ").map_err(prompt_error)?;
    let again = rpassword::prompt_password("再输入一次 / repeat it: ").map_err(prompt_error)?;
    if first != again {
        return Err(invalid("两次输入的密码不一致", "the two passwords differ"));
    }
    Ok(first)
}

fn invalid(zh: impl Into<String>, en: impl Into<String>) -> AdminError {
    AdminError::Invalid { field: "password", zh: zh.into(), en: en.into() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_first_line_is_the_password_without_its_line_ending() {
        let read = |text: &str| read_password_line(&mut text.as_bytes()).ok();
        assert_eq!(read("secret123\n").as_deref(), Some("secret123"));
        assert_eq!(read("secret123\r\nsecond line\n").as_deref(), Some("secret123"));
        assert_eq!(read(" with spaces ").as_deref(), Some(" with spaces "));
        assert_eq!(read("\n"), None);
        assert_eq!(read(""), None);
    }

    #[test]
    fn an_overlong_line_is_refused_naming_the_field() {
        let long = "x".repeat(MAX_PASSWORD_BYTES + 1);
        let error = read_password_line(&mut long.as_bytes()).expect_err("too long");
        assert!(matches!(error, AdminError::Invalid { field: "password", .. }));
        assert!(error.message_zh().contains("密码"));
    }

    proptest! {
        #[test]
        fn any_unicode_line_reads_back_or_is_refused_without_panicking(text in "\\PC*", raw in proptest::collection::vec(any::<u8>(), 0..64)) {
            let line = format!("{text}\n");
            match read_password_line(&mut line.as_bytes()) {
                Ok(password) => prop_assert_eq!(password, text),
                Err(e) => {
                    let names_the_field = matches!(e, AdminError::Invalid { field: "password", .. });
                    prop_assert!(names_the_field, "{e:?}");
                }
            }
            let _ = read_password_line(&mut raw.as_slice());
        }
    }
}
