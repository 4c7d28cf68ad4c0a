//! Go's text/template, as `go list -f` uses it: parsing (`parse.rs`), execution
//! over typed values (`exec.rs`) and Go's `fmt` printing rules (`fmt.rs`).
//!
//! Values carry Go's types (`*load.PackagePublic`, `[]string`, `bool`…) so a
//! missing field, a nil pointer or a wrong argument fails with go's own words
//! (`can't evaluate field Foo in type *load.PackagePublic`), and printing
//! follows `fmt.Fprint`: `[a b]` for slices, `map[k:v]`, `<nil>`, a type's
//! `String`/`Error` method where go would call it.
//!
//! The callers supply the data (see `commands/list.rs`) and the extra
//! functions (`join`, `context`, `module`) through [`Funcs`].

mod exec;
mod fmt;
mod parse;

use std::collections::BTreeMap;
use std::rc::Rc;

pub use exec::ExecError;
pub use parse::ParseError;

/// A typed Go value as the template sees it.
#[derive(Clone, Debug)]
pub enum Value {
    /// reflect's invalid Value (a missing map key): prints `<no value>`.
    NoValue,
    /// The untyped `nil`.
    Nil,
    /// `bool`.
    Bool(bool),
    /// `int`.
    Int(i64),
    /// `float64`.
    Float(f64),
    /// `string`.
    Str(Rc<str>),
    /// A slice (`[]string`, `[]*load.PackageError`).
    List(Rc<List>),
    /// A map with string keys (`map[string]string`).
    Map(Rc<Map>),
    /// A non-nil pointer to a struct.
    Ptr(Rc<Struct>),
    /// A nil pointer of the named type (`*modinfo.ModulePublic`) and the
    /// field names of the struct it points to: go tells a missing field
    /// (`can't evaluate field`) from a nil one (`nil pointer evaluating`).
    NilPtr(&'static str, &'static [&'static str]),
    /// A field go has and gob does not compute: using it is an error that says so.
    NotComputed(&'static str),
}

/// A slice value.
#[derive(Debug)]
pub struct List {
    /// Its Go type, `[]string`.
    pub ty: &'static str,
    /// The elements.
    pub items: Vec<Value>,
}

/// A map value (keys sorted, as go prints and ranges them).
#[derive(Debug)]
pub struct Map {
    /// Its Go type, `map[string]string`.
    pub ty: &'static str,
    /// The entries.
    pub entries: BTreeMap<String, Value>,
    /// The element type's zero value (`index` of a missing key).
    pub zero: Value,
}

/// A struct behind a pointer, with its fields in declaration order.
#[derive(Debug)]
pub struct Struct {
    /// The pointer's Go type, `*load.PackagePublic`.
    pub ty: &'static str,
    /// Fields in declaration order.
    pub fields: Vec<(&'static str, Value)>,
    /// Methods without arguments and their results (`String`, `Error`).
    pub methods: Vec<(&'static str, Value)>,
    /// What `fmt` prints for it when the type has a `String` or `Error` method.
    pub text: Option<String>,
}

impl Value {
    /// A `string`.
    pub fn str(s: impl Into<Rc<str>>) -> Value {
        Value::Str(s.into())
    }

    /// A `[]string`.
    pub fn strings<S: AsRef<str>>(v: &[S]) -> Value {
        Value::list(
            "[]string",
            v.iter().map(|s| Value::str(s.as_ref())).collect(),
        )
    }

    /// A slice of the given type.
    pub fn list(ty: &'static str, items: Vec<Value>) -> Value {
        Value::List(Rc::new(List { ty, items }))
    }

    /// A struct pointer.
    pub fn ptr(s: Struct) -> Value {
        Value::Ptr(Rc::new(s))
    }

    /// Go's type name for messages.
    pub fn type_name(&self) -> String {
        match self {
            Value::NoValue => "<invalid reflect.Value>".into(),
            Value::Nil => "<nil>".into(),
            Value::Bool(_) => "bool".into(),
            Value::Int(_) => "int".into(),
            Value::Float(_) => "float64".into(),
            Value::Str(_) => "string".into(),
            Value::List(l) => l.ty.into(),
            Value::Map(m) => m.ty.into(),
            Value::Ptr(s) => s.ty.into(),
            Value::NilPtr(t, _) => (*t).into(),
            Value::NotComputed(_) => "<not computed>".into(),
        }
    }

    /// text/template's truth: false, 0, nil, empty.
    pub fn truth(&self) -> bool {
        match self {
            Value::NoValue | Value::Nil | Value::NilPtr(..) | Value::NotComputed(_) => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::List(l) => !l.items.is_empty(),
            Value::Map(m) => !m.entries.is_empty(),
            Value::Ptr(_) => true,
        }
    }
}

/// A function the template may call.
pub type Func = Rc<dyn Fn(&[Value]) -> Result<Value, String>>;

/// An extra function: its parameter types (Go's, for argument checks) and body.
#[derive(Clone)]
pub struct FuncDef {
    /// Parameter types (`[]string`, `string`); the last is repeated when `variadic`.
    pub params: Vec<&'static str>,
    /// Whether the last parameter takes any number of arguments.
    pub variadic: bool,
    /// The body.
    pub body: Func,
}

/// Extra functions by name (go list's `join`, `context`, `module`).
pub type Funcs = BTreeMap<&'static str, FuncDef>;

/// A parsed template.
pub struct Template {
    name: String,
    src: String,
    root: Vec<parse::Node>,
    funcs: Funcs,
}

struct Names<'a>(&'a Funcs);

impl parse::FuncNames for Names<'_> {
    fn has(&self, name: &str) -> bool {
        exec::BUILTINS.contains(&name) || self.0.contains_key(name)
    }
}

impl Template {
    /// Parses `src` as the template `name` with the extra functions `funcs`.
    pub fn parse(name: &str, src: &str, funcs: Funcs) -> Result<Template, ParseError> {
        let root = parse::parse(name, src, &Names(&funcs))?;
        Ok(Template {
            name: name.to_string(),
            src: src.to_string(),
            root,
            funcs,
        })
    }

    /// Executes the template on `data`, appending to `out`. On an error, what
    /// was written before it stays in `out`, as go's writer keeps it.
    pub fn execute(&self, data: &Value, out: &mut String) -> Result<(), ExecError> {
        exec::execute(self, data, out)
    }
}
