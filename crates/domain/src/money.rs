//! Amounts of money (charity money, the value of goods) as integer fen (分), never floats: a
//! worker types yuan with at most two decimals (`1200`, `1,200.5`, `１２００元`), the store and the
//! wire keep the whole number of fen, and the screens write it back as yuan.

/// The largest amount a field takes: 100 million yuan, far above any one charity gift, and small
/// enough that sums over a station's links never overflow an `i64`.
pub const MAX_FEN: i64 = 100_000_000 * 100;

/// Longer input than this is refused before it is read (a pasted page is not an amount).
const MAX_INPUT_BYTES: usize = 64;

/// Why typed text is not an amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AmountError {
    /// Not a number of yuan with at most two decimals.
    NotAnAmount,
    /// A valid amount above `max_fen`, or below zero.
    OutOfRange,
}

/// Reads yuan as people type them into fen: digits with an optional decimal point and one or
/// two decimals, full-width digits and separators read as half-width, thousands separators and a
/// trailing `元` or a leading `¥`/`￥` allowed. Never panics, on any input.
pub fn parse_yuan(input: &str, max_fen: i64) -> Result<i64, AmountError> {
    if input.len() > MAX_INPUT_BYTES {
        return Err(AmountError::NotAnAmount);
    }
    let text: String = input
        .trim()
        .trim_start_matches(['¥', '￥'])
        .trim_end_matches('元')
        .chars()
        .filter(|c| !matches!(c, ',' | '，' | ' ' | '\u{3000}'))
        .map(|c| match c {
            '０'..='９' => char::from_u32(u32::from(c) - u32::from('０') + u32::from('0')).unwrap_or(c),
            '．' | '。' => '.',
            '－' => '-',
            other => other,
        })
        .collect();
    if let Some(rest) = text.strip_prefix('-')
        && !rest.is_empty()
        && rest.chars().all(|c| c.is_ascii_digit() || c == '.')
    {
        return Err(AmountError::OutOfRange);
    }
    let (whole, decimals) = match text.split_once('.') {
        Some((whole, decimals)) => (whole, decimals),
        None => (text.as_str(), ""),
    };
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty() || !digits(whole) || !digits(decimals) || decimals.len() > 2 || text.ends_with('.') {
        return Err(AmountError::NotAnAmount);
    }
    let whole = whole.trim_start_matches('0');
    // More than 15 digits of yuan is above any maximum (and would overflow the fen).
    if whole.len() > 15 {
        return Err(AmountError::OutOfRange);
    }
    let yuan: i64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| AmountError::NotAnAmount)? };
    let cents: i64 = match decimals.len() {
        0 => 0,
        1 => decimals.parse::<i64>().map_err(|_| AmountError::NotAnAmount)? * 10,
        _ => decimals.parse::<i64>().map_err(|_| AmountError::NotAnAmount)?,
    };
    let fen = yuan.checked_mul(100).and_then(|f| f.checked_add(cents)).ok_or(AmountError::OutOfRange)?;
    if fen > max_fen { Err(AmountError::OutOfRange) } else { Ok(fen) }
}

/// Fen written as yuan, the way [`parse_yuan`] reads it back: `120050` → `"1200.50"`, `300` →
/// `"3"`; thousands are not separated, so the text can go straight back into a form.
pub fn format_fen(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    let (yuan, cents) = (abs / 100, abs % 100);
    if cents == 0 { format!("{sign}{yuan}") } else { format!("{sign}{yuan}.{cents:02}") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_as_people_type_them() {
        let cases: &[(&str, Result<i64, AmountError>)] = &[
            ("1200", Ok(120_000)),
            ("1200.5", Ok(120_050)),
            ("1,200.05", Ok(120_005)),
            ("１２００元", Ok(120_000)),
            ("￥ 35.00", Ok(3_500)),
            ("0.01", Ok(1)),
            ("007", Ok(700)),
            (" 8 ", Ok(800)),
            ("1.234", Err(AmountError::NotAnAmount)),
            ("1.", Err(AmountError::NotAnAmount)),
            (".5", Err(AmountError::NotAnAmount)),
            ("1e3", Err(AmountError::NotAnAmount)),
            ("一百", Err(AmountError::NotAnAmount)),
            ("1.2.3", Err(AmountError::NotAnAmount)),
            ("-5", Err(AmountError::OutOfRange)),
            ("100000001", Err(AmountError::OutOfRange)),
            ("99999999999999999999", Err(AmountError::OutOfRange)),
        ];
        for (input, expected) in cases {
            assert_eq!(parse_yuan(input, MAX_FEN), *expected, "{input:?}");
        }
    }

    #[test]
    fn fen_are_written_as_yuan_that_read_back_the_same() {
        for (fen, text) in [(120_050, "1200.50"), (300, "3"), (5, "0.05"), (0, "0"), (-150, "-1.50")] {
            assert_eq!(format_fen(fen), text);
        }
        for fen in [0, 1, 99, 100, 120_050, MAX_FEN] {
            assert_eq!(parse_yuan(&format_fen(fen), MAX_FEN), Ok(fen));
        }
    }
}
