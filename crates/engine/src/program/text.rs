//! The readable program text: printing and parsing, both driven by the op table's templates.
//!
//! Numbers print in the shortest form that reads back to the same value, so
//! `parse(print(a)) == a` holds exactly. Whitespace inside a statement is free, `#` starts a
//! comment, and `;` separates statements on one line.

use super::{Algorithm, Component, Instruction, address_error};
use crate::memory::MemorySizes;
use crate::ops::{Data, Kind, OPS, Op};
use std::fmt;
use std::path::Path;

/// A syntax or range error in a program text, with its position.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}{}{message}", file_prefix(.file), position(*.line, *.column))]
pub struct ParseError {
    /// The file the text came from, if any.
    pub file: Option<String>,
    /// 1-based line (0 when the error is not about one line).
    pub line: usize,
    /// 1-based column in characters (0 when the error is not about one column).
    pub column: usize,
    /// What was wrong and what was expected.
    pub message: String,
}

fn position(line: usize, column: usize) -> String {
    match (line, column) {
        (0, _) => String::new(),
        (l, 0) => format!("line {l}: "),
        (l, c) => format!("line {l}, column {c}: "),
    }
}

fn file_prefix(file: &Option<String>) -> String {
    file.as_ref().map(|f| format!("{f}: ")).unwrap_or_default()
}

/// Writes one instruction in its printed form (without indentation).
pub(super) fn write_instruction(f: &mut fmt::Formatter<'_>, ins: &Instruction) -> fmt::Result {
    let info = ins.op.info();
    let mut rest = info.template;
    while let Some(start) = rest.find('{') {
        f.write_str(&rest[..start])?;
        let end = start
            + rest[start..]
                .find('}')
                .expect("templates close their braces");
        match &rest[start + 1..end] {
            "o" => write_address(f, info.output, ins.out)?,
            "a" => write_address(f, info.inputs.first().copied(), ins.in1)?,
            "b" => write_address(f, info.inputs.get(1).copied(), ins.in2)?,
            "x" => write!(f, "{:?}", ins.activation)?,
            k => {
                let i: usize = k.parse().expect("data placeholders are 0, 1 or 2");
                write!(f, "{:?}", ins.data[i])?
            }
        }
        rest = &rest[end + 1..];
    }
    f.write_str(rest)
}

fn write_address(f: &mut fmt::Formatter<'_>, kind: Option<Kind>, addr: u16) -> fmt::Result {
    write!(f, "{}{addr}", kind.map_or('?', Kind::letter))
}

/// Reads a program file (text, or JSON when the name ends in `.json`), checking addresses
/// against the memory sizes.
pub fn parse_file(path: &Path, sizes: &MemorySizes) -> Result<Algorithm, ParseError> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ParseError {
        file: Some(name.clone()),
        line: 0,
        column: 0,
        message: format!("cannot read the program file: {e}"),
    })?;
    let result = if path.extension().is_some_and(|e| e == "json") {
        Algorithm::from_json(&text).and_then(|algorithm| {
            algorithm.check(sizes).map_err(|message| ParseError {
                file: None,
                line: 0,
                column: 0,
                message,
            })?;
            Ok(algorithm)
        })
    } else {
        parse(&text, sizes)
    };
    result.map_err(|e| ParseError {
        file: Some(name),
        ..e
    })
}

/// Reads an algorithm from JSON; see [`Algorithm::from_json`].
pub(super) fn from_json(text: &str) -> Result<Algorithm, ParseError> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let algorithm = serde_path_to_error::deserialize(&mut deserializer)
        .map_err(|e| json_error(text, e.inner(), json_place(e.path())))?;
    deserializer.end().map_err(|e| json_error(text, &e, None))?;
    Ok(algorithm)
}

/// A JSON error as a [`ParseError`]: serde_json's message without its own position, the
/// component and instruction it is in, and the offending number when it is about one.
fn json_error(text: &str, inner: &serde_json::Error, place: Option<String>) -> ParseError {
    use serde_json::error::Category;
    let full = inner.to_string();
    let suffix = format!(" at line {} column {}", inner.line(), inner.column());
    let mut message = full.strip_suffix(&suffix).unwrap_or(&full).to_string();
    if matches!(inner.classify(), Category::Syntax | Category::Data) {
        let about_number = message == "expected value"
            || message == "invalid number"
            || message == "number out of range";
        if about_number && let Some(token) = token_at(text, inner.line(), inner.column()) {
            message = format!("{message}: found `{token}`");
            if ["nan", "infinity", "inf"].contains(
                &token
                    .trim_start_matches(['-', '+'])
                    .to_ascii_lowercase()
                    .as_str(),
            ) {
                message.push_str(" (JSON has no NaN or infinity; constants are finite numbers)");
            } else if place.as_ref().is_some_and(|p| p.ends_with("`data`")) {
                message.push_str(" (data values are 32-bit floats, within about ±3.4e38)");
            } else if message.starts_with("number out of range") {
                message.push_str(" (a constant must lie within about ±1.8e308)");
            }
        }
        if let Some(place) = place {
            message = format!("{place}: {message}");
        } else if message.starts_with("missing field") {
            message.push_str(
                " (a program has `setup`, `predict` and `learn`; an empty component is `[]`)",
            );
        }
    }
    ParseError {
        file: None,
        line: inner.line(),
        column: inner.column(),
        message,
    }
}

/// "Predict, instruction 2, `data`" for the path `predict[1].data`.
fn json_place(path: &serde_path_to_error::Path) -> Option<String> {
    use serde_path_to_error::Segment;
    let mut segments = path.iter();
    let Some(Segment::Map { key }) = segments.next() else {
        return None;
    };
    let component = Component::ALL
        .into_iter()
        .find(|c| c.title().eq_ignore_ascii_case(key))?;
    let mut place = component.title().to_string();
    if let Some(Segment::Seq { index }) = segments.next() {
        place.push_str(&format!(", instruction {}", index + 1));
        if let Some(Segment::Map { key }) = segments.next() {
            place.push_str(&format!(", `{key}`"));
        }
    }
    Some(place)
}

/// The number-like word at or just before a 1-based line and column of `text`.
fn token_at(text: &str, line: usize, column: usize) -> Option<String> {
    let chars: Vec<char> = text.lines().nth(line.checked_sub(1)?)?.chars().collect();
    let is_token = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-');
    let mut at = column.saturating_sub(1).min(chars.len());
    if !chars.get(at).copied().is_some_and(is_token) {
        // serde_json reports some errors just past the value.
        at = at
            .checked_sub(1)
            .filter(|&i| chars.get(i).copied().is_some_and(is_token))?;
    }
    let mut start = at;
    while start > 0 && is_token(chars[start - 1]) {
        start -= 1;
    }
    let end = at + chars[at..].iter().take_while(|&&c| is_token(c)).count();
    Some(chars[start..end].iter().collect())
}

/// Reads an instruction's `data`: exactly three 32-bit floats (serde_json refuses those out
/// of range).
pub(super) fn deserialize_data<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<[f32; 3], D::Error> {
    struct Data;
    impl<'de> serde::de::Visitor<'de> for Data {
        type Value = [f32; 3];
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a list of 3 numbers")
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<[f32; 3], A::Error> {
            use serde::de::Error;
            let mut data = [0.0f32; 3];
            let mut n = 0;
            while let Some(value) = seq.next_element::<f32>()? {
                if let Some(slot) = data.get_mut(n) {
                    *slot = value;
                }
                n += 1;
            }
            if n != 3 {
                return Err(A::Error::custom(format!(
                    "expected 3 numbers, found {n} (0.0 where unused)"
                )));
            }
            Ok(data)
        }
    }
    d.deserialize_seq(Data)
}

/// Parses a program text, checking every address against the memory sizes.
pub fn parse(text: &str, sizes: &MemorySizes) -> Result<Algorithm, ParseError> {
    let mut algorithm = Algorithm::default();
    let mut current: Option<Component> = None;
    for (line_index, raw_line) in text.lines().enumerate() {
        let line_no = line_index + 1;
        let line = raw_line.split('#').next().unwrap_or("");
        let mut offset = 0; // byte offset of the statement text within `line`
        let mut body = line;
        let trimmed = line.trim_start();
        if let Some(after_def) = trimmed.strip_prefix("def ") {
            let def_col = line.len() - trimmed.len();
            let component = parse_header(after_def).ok_or_else(|| ParseError {
                file: None,
                line: line_no,
                column: column_of(line, def_col) + 4,
                message: "expected `Setup():`, `Predict():` or `Learn():` after `def`".into(),
            })?;
            let expected = match current {
                None => Component::Setup,
                Some(Component::Setup) => Component::Predict,
                Some(Component::Predict) => Component::Learn,
                Some(Component::Learn) => {
                    return Err(ParseError {
                        file: None,
                        line: line_no,
                        column: column_of(line, def_col),
                        message: "`def Learn():` is the last component; nothing may follow".into(),
                    });
                }
            };
            if component != expected {
                return Err(ParseError {
                    file: None,
                    line: line_no,
                    column: column_of(line, def_col),
                    message: format!(
                        "expected `def {}():` (components come in the order Setup, Predict, Learn)",
                        expected.title()
                    ),
                });
            }
            current = Some(component);
            let colon = line.find(':').expect("parse_header found the colon") + 1;
            offset = colon;
            body = &line[colon..];
        }
        for statement in body.split(';') {
            let start = offset;
            offset += statement.len() + 1;
            if statement.trim().is_empty() {
                continue;
            }
            let Some(component) = current else {
                return Err(ParseError {
                    file: None,
                    line: line_no,
                    column: column_of(line, start + leading_ws(statement)),
                    message: "expected `def Setup():` before the first instruction".into(),
                });
            };
            let ins =
                parse_statement(line, start, statement, sizes).map_err(|(col, message)| {
                    ParseError {
                        file: None,
                        line: line_no,
                        column: col,
                        message,
                    }
                })?;
            algorithm.component_mut(component).push(ins);
        }
    }
    if current != Some(Component::Learn) {
        let missing = match current {
            None => "def Setup():",
            Some(Component::Setup) => "def Predict():",
            _ => "def Learn():",
        };
        return Err(ParseError {
            file: None,
            line: text.lines().count().max(1),
            column: 1,
            message: format!(
                "the program ended before `{missing}`; a program has Setup, Predict and Learn"
            ),
        });
    }
    Ok(algorithm)
}

fn parse_header(after_def: &str) -> Option<Component> {
    let compact: String = after_def.chars().filter(|c| !c.is_whitespace()).collect();
    Component::ALL
        .into_iter()
        .find(|c| compact.starts_with(&format!("{}():", c.title())))
}

fn leading_ws(s: &str) -> usize {
    s.len() - s.trim_start().len()
}

/// 1-based character column of a byte offset in a line.
fn column_of(line: &str, byte: usize) -> usize {
    line[..byte.min(line.len())].chars().count() + 1
}

/// A statement with its whitespace removed, each char remembering its column.
struct Stripped {
    chars: Vec<(char, usize)>,
    end_column: usize,
}

impl Stripped {
    fn new(line: &str, start: usize, statement: &str) -> Self {
        let base = column_of(line, start);
        let chars: Vec<(char, usize)> = statement
            .chars()
            .enumerate()
            .filter(|(_, c)| !c.is_whitespace())
            .map(|(i, c)| (c, base + i))
            .collect();
        let end_column = base + statement.trim_end().chars().count();
        Stripped { chars, end_column }
    }

    fn column(&self, pos: usize) -> usize {
        self.chars.get(pos).map_or(self.end_column, |&(_, c)| c)
    }

    fn text_from(&self, pos: usize) -> String {
        let word: String = self.chars[pos.min(self.chars.len())..]
            .iter()
            .map(|&(c, _)| c)
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == '.')
            .collect();
        if word.is_empty() {
            self.chars
                .get(pos)
                .map_or("the end of the statement".into(), |&(c, _)| {
                    format!("`{c}`")
                })
        } else {
            format!("`{word}`")
        }
    }
}

/// How far one template got before it stopped matching.
enum Attempt {
    Matched(Instruction, Option<(usize, String)>),
    Failed { pos: usize, expected: String },
}

fn parse_statement(
    line: &str,
    start: usize,
    statement: &str,
    sizes: &MemorySizes,
) -> Result<Instruction, (usize, String)> {
    let text = Stripped::new(line, start, statement);
    let mut furthest = 0;
    let mut expected: Vec<String> = Vec::new();
    for (number, info) in OPS.iter().enumerate() {
        let op = Op::ALL[number];
        match match_template(op, info.template, &text, sizes) {
            Attempt::Matched(ins, None) => return Ok(ins),
            Attempt::Matched(_, Some((pos, message))) => return Err((text.column(pos), message)),
            Attempt::Failed { pos, expected: e } => {
                if pos > furthest {
                    furthest = pos;
                    expected.clear();
                }
                if pos == furthest && !expected.contains(&e) {
                    expected.push(e);
                }
            }
        }
    }
    if let Some((pos, message)) = unknown_function(&text, furthest) {
        return Err((text.column(pos), message));
    }
    expected.sort();
    let found = text.text_from(furthest);
    let list = if expected.len() > 12 {
        format!("{}, ...", expected[..12].join(", "))
    } else {
        expected.join(", ")
    };
    let hint = if expected.iter().any(|e| e.starts_with("`abs`")) {
        " (not an op this program language knows)"
    } else {
        ""
    };
    Err((
        text.column(furthest),
        format!("expected {list}; found {found}{hint}"),
    ))
}

/// The function names of the op templates (`abs`, `dot`, ...), sorted.
fn function_names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = OPS
        .iter()
        .flat_map(|info| {
            let t = info.template;
            t.match_indices('(').filter_map(move |(open, _)| {
                let start = t[..open]
                    .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .map_or(0, |i| i + 1);
                let name = &t[start..open];
                name.starts_with(|c: char| c.is_ascii_alphabetic())
                    .then_some(name)
            })
        })
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// When matching stopped inside or at the start of a word followed by `(` that names no
/// function (`dott(v0, v1)`), the error about that word and its position.
fn unknown_function(text: &Stripped, pos: usize) -> Option<(usize, String)> {
    let chars = &text.chars;
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let mut start = pos.min(chars.len());
    while start > 0 && is_word(chars[start - 1].0) {
        start -= 1;
    }
    let word: String = chars[start..]
        .iter()
        .map(|c| c.0)
        .take_while(|&c| is_word(c))
        .collect();
    let end = start + word.chars().count();
    if !word.starts_with(char::is_alphabetic) || chars.get(end).map(|c| c.0) != Some('(') {
        return None;
    }
    let names = function_names();
    if names.contains(&word.as_str()) {
        return None;
    }
    let hint = names
        .iter()
        .map(|n| (crate::ops::edit_distance(&word, n), *n))
        .min()
        .filter(|&(d, _)| d * 3 <= word.chars().count())
        .map(|(_, n)| format!(" (did you mean `{n}`?)"))
        .unwrap_or_default();
    let list: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    Some((
        start,
        format!(
            "unknown function `{word}`{hint}; the functions are {}",
            list.join(", ")
        ),
    ))
}

fn match_template(op: Op, template: &str, text: &Stripped, sizes: &MemorySizes) -> Attempt {
    let info = op.info();
    let mut ins = Instruction {
        op,
        ..Instruction::NO_OP
    };
    let mut range_error: Option<(usize, String)> = None;
    let t: Vec<char> = template.chars().filter(|c| !c.is_whitespace()).collect();
    let (mut i, mut pos) = (0, 0);
    let chars = &text.chars;
    while i < t.len() {
        if t[i] == '{' {
            let close = i + t[i..]
                .iter()
                .position(|&c| c == '}')
                .expect("closed placeholder");
            let name: String = t[i + 1..close].iter().collect();
            i = close + 1;
            match name.as_str() {
                "o" | "a" | "b" => {
                    let kind = match name.as_str() {
                        "o" => info.output,
                        "a" => info.inputs.first().copied(),
                        _ => info.inputs.get(1).copied(),
                    }
                    .expect("placeholders match operands");
                    let start = pos;
                    if chars.get(pos).map(|c| c.0) != Some(kind.letter()) {
                        return Attempt::Failed {
                            pos,
                            expected: format!(
                                "a {} address (like {}1)",
                                kind.noun(),
                                kind.letter()
                            ),
                        };
                    }
                    pos += 1;
                    let digits: String = chars[pos..]
                        .iter()
                        .map(|c| c.0)
                        .take_while(char::is_ascii_digit)
                        .collect();
                    if digits.is_empty() {
                        return Attempt::Failed {
                            pos: start,
                            expected: format!(
                                "a {} address (like {}1)",
                                kind.noun(),
                                kind.letter()
                            ),
                        };
                    }
                    pos += digits.len();
                    // A number too large for u16 is beyond every memory; the message shows it
                    // as written.
                    let addr = digits.parse::<u16>().unwrap_or(u16::MAX);
                    let beyond = digits.parse::<u16>().is_err() || addr >= sizes.of(kind);
                    if beyond && range_error.is_none() {
                        range_error = Some((start, address_error(kind, &digits, sizes)));
                    }
                    match name.as_str() {
                        "o" => ins.out = addr,
                        "a" => ins.in1 = addr,
                        _ => ins.in2 = addr,
                    }
                }
                _ => {
                    let Some((lexeme, len)) = number_lexeme(&chars[pos..]) else {
                        return Attempt::Failed {
                            pos,
                            expected: "a number".into(),
                        };
                    };
                    if name == "x" {
                        match lexeme.parse::<f64>() {
                            Ok(v) => ins.activation = v,
                            Err(_) => {
                                return Attempt::Failed {
                                    pos,
                                    expected: "a number".into(),
                                };
                            }
                        }
                        if range_error.is_none() {
                            range_error = number_error(&lexeme, ins.activation, "64")
                                .map(|message| (pos, format!("constant {message}")));
                        }
                    } else {
                        let k: usize = name.parse().expect("data placeholder");
                        match lexeme.parse::<f32>() {
                            Ok(v) => ins.data[k] = v,
                            Err(_) => {
                                return Attempt::Failed {
                                    pos,
                                    expected: "a number".into(),
                                };
                            }
                        }
                        let is_index = matches!(
                            (info.data, k),
                            (Data::VectorElement, 0) | (Data::MatrixElement, 0 | 1)
                        );
                        if is_index && !(0.0..1.0).contains(&ins.data[k]) && range_error.is_none() {
                            range_error = Some((
                                pos,
                                format!(
                                    "index {lexeme} is outside [0, 1): indices are fractions of the feature size (element floor(F * index))"
                                ),
                            ));
                        }
                        if range_error.is_none() {
                            range_error = number_error(&lexeme, f64::from(ins.data[k]), "32")
                                .map(|message| (pos, format!("value {message}")));
                        }
                    }
                    pos += len;
                }
            }
        } else {
            if chars.get(pos).map(|c| c.0) != Some(t[i]) {
                return Attempt::Failed {
                    pos,
                    expected: expected_literal(&t[i..]),
                };
            }
            i += 1;
            pos += 1;
        }
    }
    if pos != chars.len() {
        return Attempt::Failed {
            pos,
            expected: "the end of the statement".into(),
        };
    }
    Attempt::Matched(ins, range_error)
}

/// What is wrong with a number read from `lexeme` into a `bits`-bit float, if anything: NaN is
/// refused, and so is a finite literal too large for the float. `inf` itself is accepted, as
/// the search can evolve an infinite constant and prints it as `inf`.
fn number_error(lexeme: &str, value: f64, bits: &str) -> Option<String> {
    if value.is_nan() {
        Some(format!("{lexeme} is not a number (NaN); write a number"))
    } else if value.is_infinite() && !lexeme.contains("inf") {
        let largest = if bits == "32" { "3.4e38" } else { "1.8e308" };
        Some(format!(
            "{lexeme} is too large for a {bits}-bit float (the largest is about {largest})"
        ))
    } else {
        None
    }
}

/// Describes the literal text a template expects next: a whole word, or one symbol.
fn expected_literal(t: &[char]) -> String {
    let word: String = t
        .iter()
        .take_while(|c| c.is_ascii_alphabetic() || **c == '_')
        .collect();
    if word.is_empty() {
        format!("`{}`", t[0])
    } else {
        format!("`{word}`")
    }
}

/// The longest number at the start of `chars`: a decimal with optional sign and exponent, or
/// `inf` / `NaN`. Returns the lexeme and its length in chars.
fn number_lexeme(chars: &[(char, usize)]) -> Option<(String, usize)> {
    let s: String = chars.iter().map(|c| c.0).take(64).collect();
    let bytes = s.as_bytes();
    let mut n = 0;
    if n < bytes.len() && (bytes[n] == b'-' || bytes[n] == b'+') {
        n += 1;
    }
    for word in ["inf", "NaN", "nan"] {
        if s[n..].starts_with(word) {
            let len = n + word.len();
            return Some((s[..len].to_string(), len));
        }
    }
    let digits_start = n;
    while n < bytes.len() && (bytes[n].is_ascii_digit() || bytes[n] == b'.') {
        n += 1;
    }
    if n == digits_start {
        return None;
    }
    if n < bytes.len() && (bytes[n] == b'e' || bytes[n] == b'E') {
        let mut m = n + 1;
        if m < bytes.len() && (bytes[m] == b'-' || bytes[m] == b'+') {
            m += 1;
        }
        let exp_start = m;
        while m < bytes.len() && bytes[m].is_ascii_digit() {
            m += 1;
        }
        if m > exp_start {
            n = m;
        }
    }
    Some((s[..n].to_string(), n))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIZES: MemorySizes = MemorySizes {
        scalars: 4,
        vectors: 3,
        matrices: 1,
    };

    const LINEAR: &str = "def Setup():\n  s2 = 0.01\ndef Predict():\n  s1 = dot(v0, v1)\ndef Learn():\n  s3 = s0 - s1\n  s3 = s3 * s2\n  v2 = s3 * v0\n  v1 = v1 + v2\n";

    #[test]
    fn prints_and_parses_the_linear_program() {
        let a = parse(LINEAR, &SIZES).unwrap();
        assert_eq!(a.setup, vec![Instruction::constant(2, 0.01)]);
        assert_eq!(
            a.learn[2],
            Instruction::new(Op::ScalarVectorProduct, 3, 0, 2)
        );
        assert_eq!(a.to_string(), LINEAR);
    }

    #[test]
    fn accepts_comments_free_spacing_and_one_line_components() {
        let text = "# linear regression\ndef Setup():   s2 = 0.001 # rate\ndef Predict(): s1=dot(v0,v1)\ndef Learn():   s3 = s0 - s1; s3 = s3 * s2; v2 = s3 * v0; v1 = v1 + v2\n";
        let a = parse(text, &SIZES).unwrap();
        assert_eq!((a.setup.len(), a.predict.len(), a.learn.len()), (1, 1, 4));
    }

    #[test]
    fn reports_unknown_ops_with_line_and_column() {
        let text = "def Setup():\ndef Predict():\n  s1 = foo(v0)\ndef Learn():\n";
        let e = parse(text, &SIZES).unwrap_err();
        assert_eq!((e.line, e.column), (3, 8));
        assert!(
            e.message.contains("unknown function `foo`"),
            "{}",
            e.message
        );
    }

    #[test]
    fn reports_addresses_beyond_memory() {
        let text = "def Setup():\n  s4 = 0.5\ndef Predict():\ndef Learn():\n";
        let e = parse(text, &SIZES).unwrap_err();
        assert_eq!((e.line, e.column), (2, 3));
        assert!(e.message.contains("s4 is beyond"), "{}", e.message);
    }

    #[test]
    fn reports_wrong_operand_kinds() {
        let text = "def Setup():\ndef Predict():\n  s1 = dot(v0, s1)\ndef Learn():\n";
        let e = parse(text, &SIZES).unwrap_err();
        assert_eq!((e.line, e.column), (3, 16));
        assert!(e.message.contains("vector address"), "{}", e.message);
    }

    #[test]
    fn requires_all_components_in_order() {
        let e = parse("def Setup():\ndef Learn():\n", &SIZES).unwrap_err();
        assert!(e.message.contains("def Predict"), "{}", e.message);
        let e = parse("def Setup():\ndef Predict():\n", &SIZES).unwrap_err();
        assert!(e.message.contains("def Learn"), "{}", e.message);
        let e = parse("s1 = s0 + s0\n", &SIZES).unwrap_err();
        assert_eq!(e.line, 1);
    }

    #[test]
    fn prints_every_set_op_data_exactly() {
        let sizes = MemorySizes::default();
        let mut a = Algorithm::default();
        a.setup.push(Instruction::set(
            Op::VectorConstSet,
            3,
            [0.3, -0.1234567, 0.0],
        ));
        a.setup
            .push(Instruction::set(Op::MatrixConstSet, 2, [0.99, 0.0, 1e-7]));
        a.setup
            .push(Instruction::set(Op::MatrixUniformSet, 1, [-0.5, 0.25, 0.0]));
        a.setup.push(Instruction::constant(5, -1.0e-300));
        let text = a.to_string();
        assert!(text.contains("  v3[0.3] = -0.1234567\n"), "{text}");
        assert_eq!(parse(&text, &sizes).unwrap(), a);
    }
}
