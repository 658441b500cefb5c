//! Property tests of the program text and JSON forms, and of the parsers' robustness.
//!
//! - Every algorithm over all 65 ops, with any memory sizes and any finite data, prints to a
//!   text that parses back to exactly the same algorithm (bit for bit), and the same holds for
//!   its JSON form.
//! - `parse` never panics, on arbitrary text or on valid program texts with random edits, and
//!   its errors carry a 1-based line and column.
//! - `Config::from_text` never panics, on arbitrary text, on edited versions of the demo config,
//!   or with arbitrary `--set` overrides.

use automl_zero_engine::config::{Config, DEMO};
use automl_zero_engine::memory::MemorySizes;
use automl_zero_engine::ops::{Data, Kind, OPS, Op};
use automl_zero_engine::program::{Algorithm, Instruction, parse, parse_file};
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;

// ---------------------------------------------------------------------------------------------
// Strategies

fn sizes_strategy() -> impl Strategy<Value = MemorySizes> {
    (2u16..=64, 1u16..=64, 1u16..=64).prop_map(|(scalars, vectors, matrices)| MemorySizes {
        scalars,
        vectors,
        matrices,
    })
}

/// Any finite f64, with the awkward ones (tiny, huge, subnormal, negative zero) well represented.
fn finite_f64() -> impl Strategy<Value = f64> {
    use proptest::num::f64 as f;
    prop_oneof![
        4 => f::POSITIVE | f::NEGATIVE | f::NORMAL | f::SUBNORMAL | f::ZERO,
        2 => -1.0e3f64..1.0e3,
        1 => prop::sample::select(vec![
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.01,
            0.1,
            1.0 / 3.0,
            f64::MIN_POSITIVE,
            -f64::MIN_POSITIVE,
            5e-324,
            -5e-324,
            f64::MAX,
            f64::MIN,
            f64::EPSILON,
            1e-300,
            -1e300,
            1e16,
            1e17,
            123_456_789_012_345_680.0,
            9_007_199_254_740_993.0,
        ]),
    ]
}

/// Any finite f32 value.
fn finite_f32() -> impl Strategy<Value = f32> {
    use proptest::num::f32 as f;
    prop_oneof![
        4 => f::POSITIVE | f::NEGATIVE | f::NORMAL | f::SUBNORMAL | f::ZERO,
        2 => -1.0e3f32..1.0e3,
        1 => prop::sample::select(vec![
            0.0f32,
            -0.0,
            1.0,
            -1.0,
            0.1,
            f32::MIN_POSITIVE,
            1e-45,
            -1e-45,
            f32::MAX,
            f32::MIN,
            f32::EPSILON,
            16_777_217.0,
        ]),
    ]
}

/// An index fraction: a finite f32 in [0, 1).
fn index_fraction() -> impl Strategy<Value = f32> {
    prop_oneof![
        4 => 0.0f32..1.0,
        1 => prop::sample::select(vec![
            0.0f32,
            -0.0,
            1e-45,
            f32::MIN_POSITIVE,
            0.5,
            0.99999994, // the largest f32 below 1
            0.3,
        ]),
    ]
}

/// Raw ingredients of one instruction; `instruction` makes them canonical for the op.
#[derive(Debug, Clone)]
struct Raw {
    op: usize,
    addrs: [u16; 3],
    activation: f64,
    values: [f32; 3],
    fractions: [f32; 2],
}

fn raw_strategy(activation: BoxedStrategy<f64>) -> impl Strategy<Value = Raw> {
    (
        0..Op::ALL.len(),
        any::<[u16; 3]>(),
        activation,
        [finite_f32(), finite_f32(), finite_f32()],
        [index_fraction(), index_fraction()],
    )
        .prop_map(|(op, addrs, activation, values, fractions)| Raw {
            op,
            addrs,
            activation,
            values,
            fractions,
        })
}

/// The instruction the raw ingredients describe: addresses reduced into the memory, and only
/// the fields the op uses set (the others are 0, as the parser leaves them).
fn instruction(raw: &Raw, sizes: &MemorySizes) -> Instruction {
    let op = Op::ALL[raw.op];
    let info = op.info();
    let addr = |kind: Option<Kind>, a: u16| kind.map_or(0, |k| a % sizes.of(k));
    let mut ins = Instruction::new(
        op,
        addr(info.inputs.first().copied(), raw.addrs[0]),
        addr(info.inputs.get(1).copied(), raw.addrs[1]),
        addr(info.output, raw.addrs[2]),
    );
    match info.data {
        Data::None => {}
        Data::Constant => ins.activation = raw.activation,
        Data::VectorElement => ins.data = [raw.fractions[0], raw.values[0], 0.0],
        Data::MatrixElement => ins.data = [raw.fractions[0], raw.fractions[1], raw.values[0]],
        Data::Uniform | Data::Gaussian => ins.data = [raw.values[0], raw.values[1], 0.0],
    }
    ins
}

fn algorithm_strategy() -> impl Strategy<Value = (MemorySizes, Algorithm)> {
    algorithm_strategy_with(finite_f64().boxed())
}

fn algorithm_strategy_with(
    activation: BoxedStrategy<f64>,
) -> impl Strategy<Value = (MemorySizes, Algorithm)> {
    let component = || prop::collection::vec(raw_strategy(activation.clone()), 0..8);
    (sizes_strategy(), component(), component(), component()).prop_map(
        |(sizes, setup, predict, learn)| {
            let make = |raws: Vec<Raw>| raws.iter().map(|r| instruction(r, &sizes)).collect();
            let a = Algorithm {
                setup: make(setup),
                predict: make(predict),
                learn: make(learn),
            };
            (sizes, a)
        },
    )
}

/// One random edit of a text: insert, delete or replace a char at a position (taken modulo
/// the text's length).
#[derive(Debug, Clone)]
enum Edit {
    Insert(usize, char),
    Delete(usize),
    Replace(usize, char),
}

/// Chars that matter to the program and config syntaxes, plus any char at all.
fn edit_char() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => prop::sample::select(
            " \t\n\r#;:=,.()[]{}\"'+-*/_0123456789eEsvmdfxnaiNI\u{feff}\u{a0}\u{2028}é€😀"
                .chars()
                .collect::<Vec<_>>()
        ),
        1 => any::<char>(),
    ]
}

fn edit_strategy() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), edit_char()).prop_map(|(p, c)| Edit::Insert(p, c)),
        any::<usize>().prop_map(Edit::Delete),
        (any::<usize>(), edit_char()).prop_map(|(p, c)| Edit::Replace(p, c)),
    ]
}

fn apply_edits(text: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for edit in edits {
        match *edit {
            Edit::Insert(p, c) => {
                let p = p % (chars.len() + 1);
                chars.insert(p, c);
            }
            Edit::Delete(p) if !chars.is_empty() => {
                let p = p % chars.len();
                chars.remove(p);
            }
            Edit::Replace(p, c) if !chars.is_empty() => {
                let p = p % chars.len();
                chars[p] = c;
            }
            _ => {}
        }
    }
    chars.into_iter().collect()
}

/// Text made of program-like pieces, more likely than arbitrary strings to get deep into the
/// parser.
fn program_like_text() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "def Setup():",
        "def Predict():",
        "def Learn():",
        "def ",
        "\n",
        "\n",
        "  ",
        ";",
        "#",
        "s1",
        "s99999",
        "v0",
        "m0",
        " = ",
        "dot(",
        ")",
        ", ",
        "[0.5]",
        "[0.5, 0.25]",
        "-1e-300",
        "inf",
        "NaN",
        "+",
        "-",
        "uniform(",
        "n_features",
        "(n_features, n_features)",
        "axis=0",
        "heaviside(",
        "1 / ",
        "é",
        "\r\n",
    ]);
    prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

fn check_parse_result(text: &str, sizes: &MemorySizes) {
    if let Err(e) = parse(text, sizes) {
        if text.lines().count() >= 1 {
            assert!(e.line >= 1, "line {} < 1 for {text:?}: {e}", e.line);
            assert!(e.column >= 1, "column {} < 1 for {text:?}: {e}", e.column);
            assert!(
                e.line <= text.lines().count(),
                "line {} beyond the text's {} lines for {text:?}: {e}",
                e.line,
                text.lines().count()
            );
        }
        assert!(!e.message.is_empty(), "empty message for {text:?}");
    }
}

/// Bitwise equality of the float fields, so that e.g. -0.0 printed as 0.0 is caught.
fn assert_bitwise_equal(a: &Algorithm, b: &Algorithm) {
    for (x, y) in [
        (&a.setup, &b.setup),
        (&a.predict, &b.predict),
        (&a.learn, &b.learn),
    ] {
        assert_eq!(x.len(), y.len());
        for (i, j) in x.iter().zip(y) {
            assert_eq!(i.activation.to_bits(), j.activation.to_bits(), "{i} vs {j}");
            for k in 0..3 {
                assert_eq!(i.data[k].to_bits(), j.data[k].to_bits(), "{i} vs {j}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Round trips

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn text_round_trip_is_exact((sizes, a) in algorithm_strategy()) {
        prop_assert!(a.check(&sizes).is_ok(), "{:?}", a.check(&sizes));
        let text = a.to_string();
        let parsed = parse(&text, &sizes);
        prop_assert_eq!(parsed.as_ref(), Ok(&a), "text:\n{}", text);
        assert_bitwise_equal(&parsed.unwrap(), &a);
        // Printing is a fixed point.
        prop_assert_eq!(parse(&text, &sizes).unwrap().to_string(), text);
    }

    /// JSON keeps every f32 data value, and scalar constants with a short decimal form (like
    /// the 0.01 of a learning rate), exactly.
    #[test]
    fn json_round_trip_is_exact_for_short_constants_and_all_f32_data(
        (_sizes, a) in algorithm_strategy_with(
            prop_oneof![
                (-1_000_000i64..1_000_000, -12i32..12)
                    .prop_map(|(m, e)| format!("{m}e{e}").parse::<f64>().unwrap()),
                Just(-0.0),
            ]
            .boxed()
        ),
    ) {
        check_json_round_trip(&a)?;
    }
}

fn check_json_round_trip(a: &Algorithm) -> Result<(), TestCaseError> {
    let json = a.to_json();
    let back = Algorithm::from_json(&json);
    prop_assert!(back.is_ok(), "{:?}\n{}", back, json);
    let back = back.unwrap();
    prop_assert_eq!(&back, a, "json:\n{}", json);
    assert_bitwise_equal(&back, a);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    /// JSON keeps every finite f64 constant exactly.
    #[test]
        fn json_round_trip_is_exact((_sizes, a) in algorithm_strategy()) {
        check_json_round_trip(&a)?;
    }
}

#[test]
fn json_round_trip_of_long_constants_is_exact() {
    for value in [433.65169593544124, -4.02760470496679e-262] {
        let a = Algorithm {
            predict: vec![Instruction::constant(0, value)],
            ..Algorithm::default()
        };
        let back = Algorithm::from_json(&a.to_json()).unwrap();
        assert_eq!(
            back.predict[0].activation.to_bits(),
            value.to_bits(),
            "{} read back as {}",
            a.predict[0],
            back.predict[0]
        );
    }
}

#[test]
fn every_op_round_trips_at_the_edges_of_memory() {
    // One instruction per op, all addresses at the last cell, in the smallest and largest
    // memories the strategy uses.
    for sizes in [
        MemorySizes {
            scalars: 2,
            vectors: 1,
            matrices: 1,
        },
        MemorySizes {
            scalars: 64,
            vectors: 64,
            matrices: 64,
        },
    ] {
        let mut a = Algorithm::default();
        for (n, _) in OPS.iter().enumerate() {
            let raw = Raw {
                op: n,
                addrs: [63; 3],
                activation: -0.0,
                values: [f32::MAX, f32::MIN, 1e-45],
                fractions: [0.99999994, 0.0],
            };
            a.predict.push(instruction(&raw, &sizes));
        }
        assert_eq!(a.predict.len(), 65);
        let text = a.to_string();
        assert_eq!(parse(&text, &sizes), Ok(a.clone()), "{text}");
        assert_eq!(Algorithm::from_json(&a.to_json()).unwrap(), a);
    }
}

// ---------------------------------------------------------------------------------------------
// Robustness of the program parser

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn parse_of_arbitrary_text_never_panics(text in any::<String>(), sizes in sizes_strategy()) {
        check_parse_result(&text, &sizes);
    }

    #[test]
    fn parse_of_program_like_text_never_panics(
        text in program_like_text(),
        sizes in sizes_strategy(),
    ) {
        check_parse_result(&text, &sizes);
    }

    #[test]
    fn parse_of_edited_programs_never_panics(
        (sizes, a) in algorithm_strategy(),
        edits in prop::collection::vec(edit_strategy(), 1..6),
        other_sizes in sizes_strategy(),
    ) {
        let text = apply_edits(&a.to_string(), &edits);
        check_parse_result(&text, &sizes);
        // The same text against other memory sizes (addresses may now be out of range).
        check_parse_result(&text, &other_sizes);
    }
}

#[test]
fn parse_errors_on_empty_and_blank_texts_have_positions() {
    let sizes = MemorySizes::default();
    for text in [
        "",
        "\n",
        "   ",
        "# only a comment\n",
        "def Setup():",
        "\u{feff}",
    ] {
        let e = parse(text, &sizes).unwrap_err();
        assert!(e.line >= 1 && e.column >= 1, "{text:?}: {e:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// Errors in program files name the file, the place and the value

const LINEAR_TEXT: &str = "def Setup():\n  s2 = 0.01\ndef Predict():\n  s1 = dot(v0, v1)\ndef Learn():\n  s3 = s0 - s1\n  s3 = s3 * s2\n  v2 = s3 * v0\n  v1 = v1 + v2\n";

const LINEAR_SIZES: MemorySizes = MemorySizes {
    scalars: 4,
    vectors: 3,
    matrices: 1,
};

/// Writes `text` to a file `name` and reads it with `parse_file`, expecting an error whose
/// message contains every one of `parts` (and the file's name).
fn file_error(name: &str, text: &str, parts: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    let e = parse_file(&path, &LINEAR_SIZES)
        .expect_err(&format!("{name} was accepted:\n{text}"))
        .to_string();
    for part in [name].iter().chain(parts) {
        assert!(e.contains(part), "{e:?} does not contain {part:?}");
    }
    e
}

/// The linear program as compact JSON (one line), with `from` replaced by `to`.
fn linear_json(from: &str, to: &str) -> String {
    let a = parse(LINEAR_TEXT, &LINEAR_SIZES).unwrap();
    let json = serde_json::to_string(&a).unwrap();
    assert!(json.contains(from), "{json}");
    json.replacen(from, to, 1)
}

#[test]
fn json_errors_name_the_file_position_and_instruction() {
    let e = file_error(
        "op.json",
        &linear_json("\"vector_inner_product\"", "\"nope\""),
        &[
            "line 1, column",
            "Predict, instruction 1",
            "unknown op `nope`",
        ],
    );
    assert!(
        !e.contains(" at line "),
        "serde_json's position is repeated: {e}"
    );
    file_error(
        "addr.json",
        &linear_json("\"in2\":1", "\"in2\":99"),
        &["Predict, instruction 1", "address v99"],
    );
    file_error("trunc.json", "{\"setup\": [\n", &["line 2", "EOF"]);
}

#[test]
fn json_missing_component_is_named() {
    for c in ["setup", "predict", "learn"] {
        let mut value: serde_json::Value = serde_json::from_str(&linear_json("", "")).unwrap();
        value.as_object_mut().unwrap().remove(c);
        file_error(
            "missing.json",
            &value.to_string(),
            &["line 1", &format!("`{c}`")],
        );
    }
    // Empty components are written as empty lists and read back.
    let empty = Algorithm::default();
    assert_eq!(Algorithm::from_json(&empty.to_json()).unwrap(), empty);
}

#[test]
fn json_data_of_the_wrong_length_is_refused() {
    for (data, n) in [
        ("[0.0,0.0]", "found 2"),
        ("[0.0,0.0,0.0,1.0]", "found 4"),
        ("[]", "found 0"),
    ] {
        file_error(
            "data.json",
            &linear_json(
                "\"data\":[0.0,0.0,0.0]}],\"learn\"",
                &format!("\"data\":{data}}}],\"learn\""),
            ),
            &["line 1, column", "Predict, instruction 1, `data`", n],
        );
    }
}

#[test]
fn json_non_finite_and_overflowing_numbers_are_refused() {
    for (value, found) in [
        ("NaN", "`NaN`"),
        ("Infinity", "`Infinity`"),
        ("-Infinity", "`-Infinity`"),
        ("1e999", "`1e999`"),
    ] {
        file_error(
            "const.json",
            &linear_json("\"activation\":0.01", &format!("\"activation\":{value}")),
            &[
                "line 1, column",
                "Setup, instruction 1, `activation`",
                found,
            ],
        );
    }
    file_error(
        "data.json",
        &linear_json("\"data\":[0.0,0.0,0.0]", "\"data\":[0.0,1e39,0.0]"),
        &[
            "line 1, column",
            "Setup, instruction 1, `data`",
            "`1e39`",
            "32-bit",
        ],
    );
}

#[test]
fn text_nan_and_overflowing_numbers_are_refused() {
    for (value, parts) in [
        ("nan", ["line 2, column 8", "constant nan", "not a number"]),
        ("NaN", ["line 2, column 8", "constant NaN", "not a number"]),
        (
            "-nan",
            ["line 2, column 8", "constant -nan", "not a number"],
        ),
        ("1e999", ["line 2, column 8", "constant 1e999", "64-bit"]),
        ("-1e400", ["line 2, column 8", "constant -1e400", "64-bit"]),
    ] {
        file_error("const.txt", &LINEAR_TEXT.replace("0.01", value), &parts);
    }
    for (value, parts) in [
        ("nan", ["line 2, column 13", "value nan", "not a number"]),
        ("1e39", ["line 2, column 13", "value 1e39", "32-bit"]),
    ] {
        let text = LINEAR_TEXT.replace("s2 = 0.01", &format!("v2[0.5] = {value}"));
        file_error("value.txt", &text, &parts);
    }
}

/// The search can evolve an infinite constant (a log-scale mutation that overflows) and prints
/// it as `inf`, so `inf` must keep reading back.
#[test]
fn text_inf_constants_still_read_back() {
    for value in [f64::INFINITY, f64::NEG_INFINITY] {
        let a = Algorithm {
            setup: vec![
                Instruction::constant(2, value),
                Instruction::set(Op::VectorConstSet, 2, [0.5, value as f32, 0.0]),
            ],
            ..Algorithm::default()
        };
        assert_eq!(parse(&a.to_string(), &LINEAR_SIZES).unwrap(), a, "{a}");
    }
}

#[test]
fn text_unknown_function_is_named() {
    for (call, parts) in [
        (
            "dott(v0, v1)",
            vec![
                "line 4, column 8",
                "unknown function `dott`",
                "did you mean `dot`",
            ],
        ),
        (
            "dotproduct(v0, v1)",
            vec!["line 4, column 8", "unknown function `dotproduct`", "`dot`"],
        ),
        (
            "foo(v0, v1)",
            vec!["line 4, column 8", "unknown function `foo`", "`matmul`"],
        ),
    ] {
        let text = LINEAR_TEXT.replace("dot(v0, v1)", call);
        let e = file_error("fn.txt", &text, &parts);
        assert!(!e.contains("expected `(`"), "{e}");
    }
}

#[test]
fn text_huge_address_is_reported_as_written() {
    let text = LINEAR_TEXT.replace("s2 = 0.01", "s99999999999999999999999 = 0.01");
    let e = file_error(
        "addr.txt",
        &text,
        &[
            "line 2, column 3",
            "address s99999999999999999999999 is beyond the memory",
        ],
    );
    assert!(!e.contains("65535"), "{e}");
}

// ---------------------------------------------------------------------------------------------
// Robustness of the config reader

/// Program-like pieces of TOML.
fn toml_like_text() -> impl Strategy<Value = String> {
    let piece = prop::sample::select(vec![
        "[search]",
        "[memory]",
        "[[search_tasks]]",
        "[[final_tasks]]",
        "\n",
        "\n",
        "scalars = ",
        "population_size = ",
        "tournament_size = ",
        "features_size = ",
        "kind = ",
        "\"files\"",
        "\"scalar_linear_regression\"",
        "0",
        "1",
        "-1",
        "1e400",
        "nan",
        "inf",
        "18446744073709551616",
        "{ ",
        " }",
        "[",
        "]",
        ", ",
        "\"",
        "'",
        "#",
        "=",
        ".",
        "é",
        "\r\n",
    ]);
    prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn config_from_arbitrary_text_never_panics(text in any::<String>()) {
        let _ = Config::from_text(&text, "x", &[]);
    }

    #[test]
    fn config_from_toml_like_text_never_panics(text in toml_like_text()) {
        let _ = Config::from_text(&text, "x", &[]);
    }

    #[test]
    fn config_from_edited_demo_never_panics(
        edits in prop::collection::vec(edit_strategy(), 1..8),
    ) {
        let text = apply_edits(DEMO, &edits);
        if let Err(e) = Config::from_text(&text, "x", &[]) {
            let message = e.to_string();
            prop_assert!(message.starts_with('x'), "the origin is not named: {}", message);
        }
    }

    #[test]
    fn config_with_arbitrary_overrides_never_panics(
        key in prop::sample::select(vec![
            "search.population_size",
            "search.tournament_size",
            "search",
            "memory.scalars",
            "search_tasks",
            "search.setup.ops",
            "random_seed",
            "a..b",
            "",
        ]),
        value in prop_oneof![any::<String>(), toml_like_text()],
        edits in prop::collection::vec(edit_strategy(), 0..3),
    ) {
        let assignment = apply_edits(&format!("{key}={value}"), &edits);
        let _ = Config::from_text(DEMO, "x", &[assignment]);
    }
}
