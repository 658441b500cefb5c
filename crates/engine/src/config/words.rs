//! Serde's messages about a config, said for the person who wrote it: the closest valid key to a
//! misspelt one, and the expected type in words ("a whole number", not `usize`).

use crate::ops::edit_distance;

/// A parser's message about the value at `path` ("." or empty: the whole config), said in words.
/// The file's line and caret, when the message shows them, are kept as they are; the message
/// line under them gets the key path in front and `hint` (a suggestion of the caller's, which
/// replaces the closest-key one and the list of keys) after it. A value's note of where it is
/// (``in `search.mutations` ``) is dropped when the path says it.
pub(super) fn explain(path: &str, message: &str, hint: &str) -> String {
    let place = match path {
        "" | "." => String::new(),
        p => format!("{p}: "),
    };
    let lines: Vec<&str> = message
        .trim_end()
        .lines()
        .filter(|l| place.is_empty() || !(l.starts_with("in `") && l.ends_with('`')))
        .collect();
    let at = lines
        .iter()
        .rposition(|l| is_snippet(l))
        .map_or(0, |i| i + 1);
    let Some(line) = lines.get(at) else {
        return message.trim_end().to_string();
    };
    let said = format!("{place}{}{hint}", reword(line, hint.is_empty()));
    lines[..at]
        .iter()
        .map(|l| l.to_string())
        .chain(std::iter::once(said))
        .chain(lines[at + 1..].iter().map(|l| l.to_string()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Whether a line is part of the parser's quote of the file: its heading, a quoted line
/// (`16 | population_size = 2.5`) or a gutter or caret line (`   |   ^^^`).
fn is_snippet(line: &str) -> bool {
    line.starts_with("TOML parse error at")
        || line
            .trim_start()
            .trim_start_matches(|c: char| c.is_ascii_digit())
            .trim_start()
            .starts_with('|')
}

/// One line of serde's, in words; a line serde did not write is returned as it is.
/// `suggest`: whether an unknown key or value gets the closest valid one (or the list of them).
fn reword(line: &str, suggest: bool) -> String {
    // toml's own, for an enum given neither a name nor a table.
    if line == "wanted string or table" {
        return "expected a name in quotes".to_string();
    }
    if let Some(rest) = line.strip_prefix("unknown field ") {
        return unknown("key", rest, suggest);
    }
    if let Some(rest) = line.strip_prefix("unknown variant ") {
        return unknown("value", rest, suggest);
    }
    if let Some(rest) = line.strip_prefix("missing field ") {
        return format!("the key {rest} is missing");
    }
    for kind in ["invalid type: ", "invalid value: "] {
        if let Some((found, expected)) = line
            .strip_prefix(kind)
            .and_then(|rest| rest.rsplit_once(", expected "))
        {
            return match found_words(found) {
                Some(found) => format!("expected {}, found {found}", expected_words(expected)),
                None => format!("expected {}", expected_words(expected)),
            };
        }
    }
    if let Some((length, expected)) = line
        .strip_prefix("invalid length ")
        .and_then(|rest| rest.split_once(", expected "))
    {
        return format!(
            "expected {}, found {length} values",
            expected_words(expected)
        );
    }
    line.to_string()
}

/// "unknown key `populaton_size` (did you mean `population_size`?)" from serde's
/// "`populaton_size`, expected one of `strategy`, `population_size`, ...": the closest name when
/// it is close enough, else the list; neither without `suggest`.
fn unknown(what: &str, rest: &str, suggest: bool) -> String {
    let names: Vec<&str> = rest.split('`').skip(1).step_by(2).collect();
    let Some((given, valid)) = names.split_first() else {
        return format!("unknown {what} {rest}");
    };
    if !suggest {
        return format!("unknown {what} `{given}`");
    }
    let closest = valid
        .iter()
        .map(|n| (edit_distance(given, n), *n))
        .min()
        .filter(|&(d, _)| d * 3 <= given.chars().count());
    match closest {
        Some((_, name)) => format!("unknown {what} `{given}` (did you mean `{name}`?)"),
        _ if valid.is_empty() => format!("unknown {what} `{given}`"),
        _ => {
            let list: Vec<String> = valid.iter().map(|n| format!("`{n}`")).collect();
            format!(
                "unknown {what} `{given}`; expected one of {}",
                list.join(", ")
            )
        }
    }
}

/// What serde expected (a Rust type, or its own phrase), in words.
fn expected_words(expected: &str) -> String {
    let words = match expected {
        "usize" | "u64" | "u128" => "a whole number (not negative)",
        "u32" => "a whole number from 0 to 4294967295",
        "u16" => "a whole number from 0 to 65535",
        "u8" => "a whole number from 0 to 255",
        "isize" | "i64" | "i32" | "i16" | "i8" | "i128" => "a whole number",
        "f64" | "f32" => "a number",
        "a boolean" | "bool" => "true or false",
        "a sequence" => "a list",
        "a string" | "string" | "a borrowed string" => "text in quotes",
        "path string" => "a path in quotes",
        "string only" => "a name in quotes",
        "a map" => "a table",
        "a character" | "char" => "one character in quotes",
        e if e.starts_with("struct ") => "a table",
        e if e.starts_with("enum ") => "a name in quotes",
        e => match e.strip_prefix("an array of length ") {
            Some(n) => return format!("a list of {n} values"),
            None => e,
        },
    };
    words.to_string()
}

/// What serde found (`floating point `2.5``, `string "lots"`, `sequence`), in words; `None` when
/// serde's word for it would mislead (toml calls any value given for a name a unit variant).
fn found_words(found: &str) -> Option<String> {
    for kind in ["integer ", "floating point ", "boolean ", "character "] {
        if let Some(value) = found.strip_prefix(kind) {
            return Some(value.to_string());
        }
    }
    if let Some(text) = found.strip_prefix("string ") {
        return Some(format!("the text {text}"));
    }
    let words = match found {
        "sequence" => "a list",
        "map" => "a table",
        "unit variant" => return None,
        other => other,
    };
    Some(words.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_get_the_closest_one_or_the_list() {
        let serde = "unknown field `populaton_size`, expected one of `strategy`, `population_size`";
        assert_eq!(
            explain("search.populaton_size", serde, ""),
            "search.populaton_size: unknown key `populaton_size` (did you mean `population_size`?)"
        );
        let far = "unknown field `colour`, expected `kind` or `path`";
        assert_eq!(
            explain("", far, ""),
            "unknown key `colour`; expected one of `kind`, `path`"
        );
        // The caller's hint replaces the closest key.
        let e = explain(
            "max_seconds",
            "unknown field `max_seconds`, expected `max_secondz`",
            " (hint)",
        );
        assert_eq!(e, "max_seconds: unknown key `max_seconds` (hint)");
        let e = explain(
            "",
            "unknown variant `evolutoin`, expected `evolution` or `random`",
            "",
        );
        assert_eq!(e, "unknown value `evolutoin` (did you mean `evolution`?)");
    }

    #[test]
    fn types_are_said_in_words() {
        for (serde, words) in [
            (
                "invalid type: floating point `2.5`, expected usize",
                "expected a whole number (not negative), found `2.5`",
            ),
            (
                "invalid value: integer `-3`, expected usize",
                "expected a whole number (not negative), found `-3`",
            ),
            (
                "invalid type: boolean `true`, expected f64",
                "expected a number, found `true`",
            ),
            (
                "invalid type: string \"lots\", expected u64",
                "expected a whole number (not negative), found the text \"lots\"",
            ),
            (
                "invalid type: integer `3`, expected a sequence",
                "expected a list, found `3`",
            ),
            (
                "invalid type: sequence, expected a boolean",
                "expected true or false, found a list",
            ),
            (
                "invalid length 3, expected an array of length 2",
                "expected a list of 2 values, found 3 values",
            ),
            (
                "invalid type: unit variant, expected string only",
                "expected a name in quotes",
            ),
            (
                "invalid value: integer `300`, expected u8",
                "expected a whole number from 0 to 255, found `300`",
            ),
        ] {
            assert_eq!(explain("", serde, ""), words);
        }
    }

    #[test]
    fn the_files_quote_stays_and_the_message_under_it_gets_the_key() {
        let toml = "TOML parse error at line 16, column 19\n   |\n16 | population_size = 2.5\n   |                   ^^^\ninvalid type: floating point `2.5`, expected usize\n";
        let e = explain("search.population_size", toml, "");
        assert_eq!(
            e,
            "TOML parse error at line 16, column 19\n   |\n16 | population_size = 2.5\n   |                   ^^^\nsearch.population_size: expected a whole number (not negative), found `2.5`"
        );
        // A value's note of where it is goes when the path says it.
        let value = "invalid type: boolean `true`, expected f64\nin `search.mutate_prob`";
        assert_eq!(
            explain("search.mutate_prob", value, ""),
            "search.mutate_prob: expected a number, found `true`"
        );
        // Messages serde did not write pass through.
        assert_eq!(explain(".", "unknown op `x`", ""), "unknown op `x`");
    }
}
