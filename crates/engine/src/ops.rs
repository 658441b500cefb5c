//! The instruction set: one table holds every op's operands, data, printed form and cost.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// The type of a memory cell an op reads or writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// An f64 scalar, printed `sN`.
    Scalar,
    /// A vector of F f64 values, printed `vN`.
    Vector,
    /// An F×F matrix of f64 values, printed `mN`.
    Matrix,
}

impl Kind {
    /// The letter that prefixes an address of this kind in the program text.
    pub fn letter(self) -> char {
        match self {
            Kind::Scalar => 's',
            Kind::Vector => 'v',
            Kind::Matrix => 'm',
        }
    }

    /// A human name of the kind, for error messages.
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Scalar => "scalar",
            Kind::Vector => "vector",
            Kind::Matrix => "matrix",
        }
    }
}

/// Which immediate data an op carries (SPEC 2.1, 2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Data {
    /// No immediate data.
    None,
    /// `activation` is the constant written (scalar const set).
    Constant,
    /// `data[0]` is an index fraction, `data[1]` the value (vector const set).
    VectorElement,
    /// `data[0]`, `data[1]` are index fractions, `data[2]` the value (matrix const set).
    MatrixElement,
    /// `data[0]`, `data[1]` are the low and high ends of a uniform draw.
    Uniform,
    /// `data[0]` is the mean and `data[1]` the standard deviation of a normal draw.
    Gaussian,
}

/// How an op uses its operands, as the mutator sees it (SPEC 2.3 operand classes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Does nothing.
    NoOp,
    /// Writes immediate data; reads no memory.
    Set,
    /// Reads `in1`, writes `out`.
    Unary,
    /// Reads `in1` and `in2`, writes `out`.
    Binary,
}

/// Everything the project knows about one op.
#[derive(Debug)]
pub struct OpInfo {
    /// The op's name in configs and JSON (snake_case).
    pub name: &'static str,
    /// Kinds of the inputs `in1` and `in2`, in order.
    pub inputs: &'static [Kind],
    /// Kind of the output, `None` for NO_OP.
    pub output: Option<Kind>,
    /// The immediate data the op carries.
    pub data: Data,
    /// Printed form; `{o}`, `{a}`, `{b}` are the out/in1/in2 addresses, `{x}` the constant,
    /// `{0}`, `{1}`, `{2}` the data fields.
    pub template: &'static str,
    /// Compute cost used by the train budget (SPEC 5.3), in arbitrary units.
    pub cost: u64,
    /// Whether executing the op draws random numbers.
    pub random: bool,
}

impl OpInfo {
    /// The operand class of the op.
    pub fn class(&self) -> Class {
        match (self.output, self.inputs.len()) {
            (None, _) => Class::NoOp,
            (Some(_), 0) => Class::Set,
            (Some(_), 1) => Class::Unary,
            _ => Class::Binary,
        }
    }
}

macro_rules! op_table {
    ($( $variant:ident = $num:literal : $name:literal, [$($input:ident),*] -> $out:tt, $data:ident, $tmpl:literal, $cost:literal, $rand:literal; )*) => {
        /// An op of the instruction set; the discriminant is the original's op number.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum Op { $( #[doc = $name] $variant = $num, )* }

        /// The table of all ops, indexed by op number.
        pub static OPS: &[OpInfo] = &[ $( OpInfo {
            name: $name,
            inputs: &[$(Kind::$input),*],
            output: op_table!(@out $out),
            data: Data::$data,
            template: $tmpl,
            cost: $cost,
            random: $rand,
        }, )* ];

        impl Op {
            /// Every op in number order.
            pub const ALL: &'static [Op] = &[ $( Op::$variant, )* ];
        }
    };
    (@out none) => { None };
    (@out $k:ident) => { Some(Kind::$k) };
}

op_table! {
    NoOp = 0: "no_op", [] -> none, None, "NoOp()", 3013921, false;
    ScalarSum = 1: "scalar_sum", [Scalar, Scalar] -> Scalar, None, "{o} = {a} + {b}", 4703759, false;
    ScalarDiff = 2: "scalar_diff", [Scalar, Scalar] -> Scalar, None, "{o} = {a} - {b}", 5102027, false;
    ScalarProduct = 3: "scalar_product", [Scalar, Scalar] -> Scalar, None, "{o} = {a} * {b}", 4418347, false;
    ScalarDivision = 4: "scalar_division", [Scalar, Scalar] -> Scalar, None, "{o} = {a} / {b}", 3963916, false;
    ScalarAbs = 5: "scalar_abs", [Scalar] -> Scalar, None, "{o} = abs({a})", 3684352, false;
    ScalarReciprocal = 6: "scalar_reciprocal", [Scalar] -> Scalar, None, "{o} = 1 / {a}", 4212086, false;
    ScalarSin = 7: "scalar_sin", [Scalar] -> Scalar, None, "{o} = sin({a})", 7538523, false;
    ScalarCos = 8: "scalar_cos", [Scalar] -> Scalar, None, "{o} = cos({a})", 7452807, false;
    ScalarTan = 9: "scalar_tan", [Scalar] -> Scalar, None, "{o} = tan({a})", 7583203, false;
    ScalarArcsin = 10: "scalar_arcsin", [Scalar] -> Scalar, None, "{o} = arcsin({a})", 9145616, false;
    ScalarArccos = 11: "scalar_arccos", [Scalar] -> Scalar, None, "{o} = arccos({a})", 7673039, false;
    ScalarArctan = 12: "scalar_arctan", [Scalar] -> Scalar, None, "{o} = arctan({a})", 9273978, false;
    ScalarExp = 13: "scalar_exp", [Scalar] -> Scalar, None, "{o} = exp({a})", 11755929, false;
    ScalarLog = 14: "scalar_log", [Scalar] -> Scalar, None, "{o} = log({a})", 11627725, false;
    ScalarHeaviside = 15: "scalar_heaviside", [Scalar] -> Scalar, None, "{o} = heaviside({a}, 1.0)", 4057075, false;
    VectorHeaviside = 16: "vector_heaviside", [Vector] -> Vector, None, "{o} = heaviside({a}, 1.0)", 3965743, false;
    MatrixHeaviside = 17: "matrix_heaviside", [Matrix] -> Matrix, None, "{o} = heaviside({a}, 1.0)", 6728311, false;
    ScalarVectorProduct = 18: "scalar_vector_product", [Scalar, Vector] -> Vector, None, "{o} = {a} * {b}", 3705015, false;
    ScalarBroadcast = 19: "scalar_broadcast", [Scalar] -> Vector, None, "{o} = bcast({a})", 4165814, false;
    VectorReciprocal = 20: "vector_reciprocal", [Vector] -> Vector, None, "{o} = 1 / {a}", 6311851, false;
    VectorNorm = 21: "vector_norm", [Vector] -> Scalar, None, "{o} = norm({a})", 4810562, false;
    VectorAbs = 22: "vector_abs", [Vector] -> Vector, None, "{o} = abs({a})", 3713533, false;
    VectorSum = 23: "vector_sum", [Vector, Vector] -> Vector, None, "{o} = {a} + {b}", 4701519, false;
    VectorDiff = 24: "vector_diff", [Vector, Vector] -> Vector, None, "{o} = {a} - {b}", 4165747, false;
    VectorProduct = 25: "vector_product", [Vector, Vector] -> Vector, None, "{o} = {a} * {b}", 4504555, false;
    VectorDivision = 26: "vector_division", [Vector, Vector] -> Vector, None, "{o} = {a} / {b}", 4556237, false;
    VectorInnerProduct = 27: "vector_inner_product", [Vector, Vector] -> Scalar, None, "{o} = dot({a}, {b})", 4294617, false;
    VectorOuterProduct = 28: "vector_outer_product", [Vector, Vector] -> Matrix, None, "{o} = outer({a}, {b})", 9833707, false;
    ScalarMatrixProduct = 29: "scalar_matrix_product", [Scalar, Matrix] -> Matrix, None, "{o} = {a} * {b}", 5986302, false;
    MatrixReciprocal = 30: "matrix_reciprocal", [Matrix] -> Matrix, None, "{o} = 1 / {a}", 24336141, false;
    MatrixVectorProduct = 31: "matrix_vector_product", [Matrix, Vector] -> Vector, None, "{o} = dot({a}, {b})", 9310002, false;
    VectorColumnBroadcast = 32: "vector_column_broadcast", [Vector] -> Matrix, None, "{o} = bcast({a}, axis=0)", 10993088, false;
    VectorRowBroadcast = 33: "vector_row_broadcast", [Vector] -> Matrix, None, "{o} = bcast({a}, axis=1)", 11087322, false;
    MatrixNorm = 34: "matrix_norm", [Matrix] -> Scalar, None, "{o} = norm({a})", 6422746, false;
    MatrixColumnNorm = 35: "matrix_column_norm", [Matrix] -> Vector, None, "{o} = norm({a}, axis=0)", 6682187, false;
    MatrixRowNorm = 36: "matrix_row_norm", [Matrix] -> Vector, None, "{o} = norm({a}, axis=1)", 13351123, false;
    MatrixTranspose = 37: "matrix_transpose", [Matrix] -> Matrix, None, "{o} = transpose({a})", 9394756, false;
    MatrixAbs = 38: "matrix_abs", [Matrix] -> Matrix, None, "{o} = abs({a})", 4630926, false;
    MatrixSum = 39: "matrix_sum", [Matrix, Matrix] -> Matrix, None, "{o} = {a} + {b}", 5579381, false;
    MatrixDiff = 40: "matrix_diff", [Matrix, Matrix] -> Matrix, None, "{o} = {a} - {b}", 5429452, false;
    MatrixProduct = 41: "matrix_product", [Matrix, Matrix] -> Matrix, None, "{o} = {a} * {b}", 5475227, false;
    MatrixDivision = 42: "matrix_division", [Matrix, Matrix] -> Matrix, None, "{o} = {a} / {b}", 18234378, false;
    MatrixMatrixProduct = 43: "matrix_matrix_product", [Matrix, Matrix] -> Matrix, None, "{o} = matmul({a}, {b})", 14516296, false;
    ScalarMin = 44: "scalar_min", [Scalar, Scalar] -> Scalar, None, "{o} = minimum({a}, {b})", 3677265, false;
    VectorMin = 45: "vector_min", [Vector, Vector] -> Vector, None, "{o} = minimum({a}, {b})", 3989956, false;
    MatrixMin = 46: "matrix_min", [Matrix, Matrix] -> Matrix, None, "{o} = minimum({a}, {b})", 5457728, false;
    ScalarMax = 47: "scalar_max", [Scalar, Scalar] -> Scalar, None, "{o} = maximum({a}, {b})", 4573695, false;
    VectorMax = 48: "vector_max", [Vector, Vector] -> Vector, None, "{o} = maximum({a}, {b})", 3974229, false;
    MatrixMax = 49: "matrix_max", [Matrix, Matrix] -> Matrix, None, "{o} = maximum({a}, {b})", 5840952, false;
    VectorMean = 50: "vector_mean", [Vector] -> Scalar, None, "{o} = mean({a})", 4280443, false;
    MatrixMean = 51: "matrix_mean", [Matrix] -> Scalar, None, "{o} = mean({a})", 4595196, false;
    MatrixRowMean = 52: "matrix_row_mean", [Matrix] -> Vector, None, "{o} = mean({a}, axis=1)", 9763956, false;
    MatrixRowStDev = 53: "matrix_row_st_dev", [Matrix] -> Vector, None, "{o} = std({a}, axis=1)", 16766477, false;
    VectorStDev = 54: "vector_st_dev", [Vector] -> Scalar, None, "{o} = std({a})", 5585730, false;
    MatrixStDev = 55: "matrix_st_dev", [Matrix] -> Scalar, None, "{o} = std({a})", 10640216, false;
    ScalarConstSet = 56: "scalar_const_set", [] -> Scalar, Constant, "{o} = {x}", 3691108, false;
    VectorConstSet = 57: "vector_const_set", [] -> Vector, VectorElement, "{o}[{0}] = {1}", 3991421, false;
    MatrixConstSet = 58: "matrix_const_set", [] -> Matrix, MatrixElement, "{o}[{0}, {1}] = {2}", 3693035, false;
    ScalarUniformSet = 59: "scalar_uniform_set", [] -> Scalar, Uniform, "{o} = uniform({0}, {1})", 26610704, true;
    VectorUniformSet = 60: "vector_uniform_set", [] -> Vector, Uniform, "{o} = uniform({0}, {1}, n_features)", 57817372, true;
    MatrixUniformSet = 61: "matrix_uniform_set", [] -> Matrix, Uniform, "{o} = uniform({0}, {1}, (n_features, n_features))", 208339446, true;
    ScalarGaussianSet = 62: "scalar_gaussian_set", [] -> Scalar, Gaussian, "{o} = gaussian({0}, {1})", 20775635, true;
    VectorGaussianSet = 63: "vector_gaussian_set", [] -> Vector, Gaussian, "{o} = gaussian({0}, {1}, n_features)", 77483018, true;
    MatrixGaussianSet = 64: "matrix_gaussian_set", [] -> Matrix, Gaussian, "{o} = gaussian({0}, {1}, (n_features, n_features))", 277690384, true;
}

impl Op {
    /// The op's row in the table.
    #[inline]
    pub fn info(self) -> &'static OpInfo {
        &OPS[self as usize]
    }

    /// The op's config name.
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// The op with this config name, if any.
    pub fn from_name(name: &str) -> Option<Op> {
        Op::ALL.iter().copied().find(|op| op.name() == name)
    }

    /// The op with this number, if any.
    pub fn from_number(n: u8) -> Option<Op> {
        Op::ALL.get(n as usize).copied()
    }

    /// The operand class of the op.
    pub fn class(self) -> Class {
        self.info().class()
    }
}

/// Named op lists a config may give instead of listing ops (`ops = "linear"`).
pub const PRESETS: [(&str, &str); 3] = [
    (
        "linear",
        "what linear models trained by gradient descent need: scalar arithmetic, dot products, scaling and sums of vectors, constants",
    ),
    (
        "neural",
        "`linear` and what 2-layer networks need: matrix-vector products, ReLU (maximum) and its derivative (heaviside), outer products, matrix sums, Gaussian initialisation",
    ),
    ("all", "every op"),
];

impl Op {
    /// The ops of a preset (see [`PRESETS`]), or `None` for an unknown name.
    pub fn preset(name: &str) -> Option<Vec<Op>> {
        use Op::*;
        let linear = [
            ScalarConstSet,
            ScalarSum,
            ScalarDiff,
            ScalarProduct,
            VectorInnerProduct,
            ScalarVectorProduct,
            VectorSum,
            VectorDiff,
        ];
        let neural = [
            MatrixVectorProduct,
            VectorMax,
            VectorHeaviside,
            VectorProduct,
            VectorOuterProduct,
            MatrixSum,
            ScalarGaussianSet,
            VectorGaussianSet,
            MatrixGaussianSet,
        ];
        match name {
            "linear" => Some(linear.to_vec()),
            "neural" => Some([&linear[..], &neural[..]].concat()),
            "all" => Some(Op::ALL.iter().copied().filter(|&op| op != NoOp).collect()),
            _ => None,
        }
    }

    /// Deserializes an op list, or the name of a preset, into ops.
    pub fn deserialize_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Op>, D::Error> {
        struct List;
        impl<'de> serde::de::Visitor<'de> for List {
            type Value = Vec<Op>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of op names, or a preset name (linear, neural, all)")
            }
            fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<Vec<Op>, E> {
                Op::preset(name).ok_or_else(|| {
                    let names: Vec<_> = PRESETS.iter().map(|(n, _)| *n).collect();
                    E::custom(format!(
                        "unknown op preset `{name}`; the presets are {} (or list op names)",
                        names.join(", ")
                    ))
                })
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Vec<Op>, A::Error> {
                let mut ops = Vec::new();
                while let Some(op) = seq.next_element::<Op>()? {
                    ops.push(op);
                }
                Ok(ops)
            }
        }
        d.deserialize_any(List)
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error for an op name that does not exist.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unknown op `{name}`{}", suggestion(name))]
pub struct UnknownOp {
    /// The name that was given.
    pub name: String,
}

fn suggestion(name: &str) -> String {
    let best = Op::ALL
        .iter()
        .map(|op| (edit_distance(name, op.name()), op.name()))
        .min();
    match best {
        Some((d, n)) if d <= 3 => format!(" (did you mean `{n}`?)"),
        _ => " (`automl-zero ops` lists the op names)".to_string(),
    }
}

/// Levenshtein distance between two short strings.
pub(crate) fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, &cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

impl std::str::FromStr for Op {
    type Err = UnknownOp;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Op::from_name(s).ok_or_else(|| UnknownOp {
            name: s.to_string(),
        })
    }
}

impl Serialize for Op {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> Deserialize<'de> for Op {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_in_number_order_with_spec_classes() {
        assert_eq!(OPS.len(), 65);
        for (i, op) in Op::ALL.iter().enumerate() {
            assert_eq!(*op as usize, i);
        }
        let unary = [5..=17, 19..=22, 30..=30, 32..=38, 50..=55];
        let binary = [1..=4, 18..=18, 23..=29, 31..=31, 39..=49];
        for op in Op::ALL {
            let n = *op as u8;
            let expected = if n == 0 {
                Class::NoOp
            } else if n >= 56 {
                Class::Set
            } else if unary.iter().any(|r| r.contains(&n)) {
                Class::Unary
            } else {
                assert!(binary.iter().any(|r| r.contains(&n)));
                Class::Binary
            };
            assert_eq!(op.class(), expected, "{op}");
        }
    }

    #[test]
    fn names_round_trip_and_unknown_names_suggest() {
        for op in Op::ALL {
            assert_eq!(op.name().parse::<Op>().unwrap(), *op);
        }
        let err = "scalar_sumn".parse::<Op>().unwrap_err().to_string();
        assert!(err.contains("did you mean `scalar_sum`"), "{err}");
    }
}
