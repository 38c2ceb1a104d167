//! Valid resident ID numbers (居民身份证号, GB 11643-1999): region, birth date, a three-digit
//! sequence (odd for men) and the MOD 11-2 check character `domain::validate` checks.

use chrono::NaiveDate;
use domain::validate::id_number_check_char;

/// The number of a person born on `birth` in `region` (six digits), with `sequence` (0-999).
pub fn id_number(region: &str, birth: NaiveDate, sequence: u32) -> String {
    id_number_from_first17(&format!("{region}{}{:03}", birth.format("%Y%m%d"), sequence % 1000))
}

/// The first 17 digits completed with their check character.
pub fn id_number_from_first17(first17: &str) -> String {
    let check = id_number_check_char(first17).expect("17 digits");
    format!("{first17}{check}")
}

/// The same number with a wrong check character.
pub fn with_wrong_check_digit(valid: &str) -> String {
    let (first17, check) = valid.split_at(17);
    let wrong = if check == "0" { '1' } else { '0' };
    format!("{first17}{wrong}")
}

/// The gender the number says (`Gender`'s name): its 17th digit, odd for men.
pub fn gender_of(id_number: &str) -> &'static str {
    if id_number.as_bytes().get(16).is_some_and(|digit| digit % 2 == 1) { "Male" } else { "Female" }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::validate::resident_id_number;

    #[test]
    fn the_numbers_made_are_valid_and_say_the_gender() {
        let birth = NaiveDate::from_ymd_opt(1949, 12, 31).expect("date");
        assert_eq!(id_number("110105", birth, 2), "11010519491231002X");
        let male = id_number("410522", birth, 201);
        let today = NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
        assert!(resident_id_number(&male, today).is_ok(), "{male}");
        assert_eq!(gender_of(&male), "Male");
        assert!(resident_id_number(&with_wrong_check_digit(&male), today).is_err());
    }
}
