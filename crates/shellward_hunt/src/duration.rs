//! Durations as users write them: a count and a unit (`90s`, `30m`, `24h`, `7d`, `2w`).

/// The duration in seconds; `None` when the text is not a count followed by a letter,
/// `Some(Err(unit))` when the letter is not a unit (s, m, h, d, w).
pub fn duration_seconds(text: &str) -> Option<Result<i64, char>> {
    let text = text.trim();
    let unit = text.chars().last().filter(|c| c.is_ascii_alphabetic())?;
    let count = text[..text.len() - 1].trim().parse::<i64>().ok()?;
    let seconds = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'w' => 604_800,
        _ => return Some(Err(unit)),
    };
    Some(Ok(count.saturating_mul(seconds)))
}

/// Seconds in the largest unit that divides them (`1800` is `30m`, `90` is `90s`): the form
/// [`duration_seconds`] reads.
pub fn format_duration(seconds: i64) -> String {
    for (unit, size) in [('w', 604_800), ('d', 86_400), ('h', 3600), ('m', 60)] {
        if seconds != 0 && seconds % size == 0 {
            return format!("{}{unit}", seconds / size);
        }
    }
    format!("{seconds}s")
}

#[cfg(test)]
mod tests {
    #[test]
    fn formats_in_the_largest_unit() {
        assert_eq!(super::format_duration(1800), "30m");
        assert_eq!(super::format_duration(90), "90s");
        assert_eq!(super::format_duration(7200), "2h");
        assert_eq!(super::format_duration(0), "0s");
    }

    #[test]
    fn counts_and_units() {
        assert_eq!(super::duration_seconds("90s"), Some(Ok(90)));
        assert_eq!(super::duration_seconds(" 2w "), Some(Ok(1_209_600)));
        assert_eq!(super::duration_seconds("5y"), Some(Err('y')));
        assert_eq!(super::duration_seconds("h"), None);
        assert_eq!(super::duration_seconds("1 year"), None);
    }
}
