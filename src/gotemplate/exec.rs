//! Execution: text/template's exec.go over [`Value`]s, its builtin functions
//! (funcs.go) and its error words.

use std::rc::Rc;

use super::fmt::{print_top, sprint, sprintf, sprintln};
use super::parse::{Arg, Cmd, Node, Num, Operand, Pipe};
use super::{Template, Value};

/// text/template's builtin functions.
pub const BUILTINS: &[&str] = &[
    "and", "call", "eq", "ge", "gt", "html", "index", "js", "le", "len", "lt", "ne", "not", "or",
    "print", "printf", "println", "slice", "urlquery",
];

/// An execution error, worded as go's:
/// `template: main:1:2: executing "main" at <.Foo>: can't evaluate field Foo in type *load.PackagePublic`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ExecError(pub String);

enum Flow {
    Err(ExecError),
    Break,
    Continue,
}

impl From<ExecError> for Flow {
    fn from(e: ExecError) -> Flow {
        Flow::Err(e)
    }
}

type R<T> = Result<T, Flow>;

struct State<'a> {
    t: &'a Template,
    vars: Vec<(String, Value)>,
    /// The node being evaluated: its position and its text, for messages.
    at: (usize, String),
}

pub(super) fn execute(t: &Template, data: &Value, out: &mut String) -> Result<(), ExecError> {
    let mut s = State {
        t,
        vars: vec![("$".to_string(), data.clone())],
        at: (0, String::new()),
    };
    match s.walk(data, &t.root, out) {
        Ok(()) => Ok(()),
        Err(Flow::Err(e)) => Err(e),
        // The parser refuses break and continue outside range.
        Err(Flow::Break | Flow::Continue) => Ok(()),
    }
}

impl State<'_> {
    fn at(&mut self, pos: usize, ctx: impl ToString) {
        self.at = (pos, ctx.to_string());
    }

    fn errorf<T>(&self, msg: impl AsRef<str>) -> R<T> {
        let pos = self.at.0.min(self.t.src.len());
        let before = &self.t.src[..pos];
        let line = 1 + before.matches('\n').count();
        let col = match before.rfind('\n') {
            Some(i) => pos - i - 1,
            None => pos,
        };
        Err(Flow::Err(ExecError(format!(
            "template: {}:{line}:{col}: executing \"{}\" at <{}>: {}",
            self.t.name,
            self.t.name,
            self.at.1,
            msg.as_ref()
        ))))
    }

    fn walk(&mut self, dot: &Value, nodes: &[Node], out: &mut String) -> R<()> {
        for n in nodes {
            match n {
                Node::Text(t) => out.push_str(t),
                Node::Action(p) => {
                    let v = self.pipeline(dot, p)?;
                    if p.decl.is_empty() {
                        self.at(p.pos, p);
                        let text = self.printable(&v)?;
                        out.push_str(&text);
                    }
                }
                Node::If {
                    with,
                    pipe,
                    list,
                    else_list,
                } => {
                    let mark = self.vars.len();
                    let v = self.pipeline(dot, pipe)?;
                    if let Value::NotComputed(_) = v {
                        self.printable(&v)?;
                    }
                    let r = if v.truth() {
                        self.walk(if *with { &v } else { dot }, list, out)
                    } else {
                        self.walk(dot, else_list, out)
                    };
                    self.vars.truncate(mark);
                    r?;
                }
                Node::Range {
                    pipe,
                    list,
                    else_list,
                } => self.range(dot, pipe, list, else_list, out)?,
                Node::Break => return Err(Flow::Break),
                Node::Continue => return Err(Flow::Continue),
            }
        }
        Ok(())
    }

    fn range(
        &mut self,
        dot: &Value,
        pipe: &Pipe,
        list: &[Node],
        else_list: &[Node],
        out: &mut String,
    ) -> R<()> {
        let mark = self.vars.len();
        let plain = Pipe {
            decl: Vec::new(),
            ..pipe.clone()
        };
        let v = self.pipeline(dot, &plain)?;
        let items: Vec<(Value, Value)> = match &v {
            Value::List(l) => l
                .items
                .iter()
                .enumerate()
                .map(|(i, x)| (Value::Int(i as i64), x.clone()))
                .collect(),
            Value::Map(m) => m
                .entries
                .iter()
                .map(|(k, x)| (Value::str(k.as_str()), x.clone()))
                .collect(),
            Value::Int(n) => (0..*n).map(|i| (Value::Int(i), Value::Int(i))).collect(),
            Value::NoValue => Vec::new(),
            other => {
                self.at(pipe.pos, pipe);
                return self.errorf(format!(
                    "range can't iterate over {}",
                    print_top(other).unwrap_or_default()
                ));
            }
        };
        if let (Value::Int(_), 2) = (&v, pipe.decl.len()) {
            self.at(pipe.pos, pipe);
            return self.errorf(format!(
                "can't use {} to iterate over more than one variable",
                print_top(&v).unwrap_or_default()
            ));
        }
        if items.is_empty() {
            let r = self.walk(dot, else_list, out);
            self.vars.truncate(mark);
            return r;
        }
        for (k, x) in items {
            match pipe.decl.as_slice() {
                [one] => self.set_decl(one, x.clone(), pipe.assign),
                [a, b] => {
                    self.set_decl(a, k, pipe.assign);
                    self.set_decl(b, x.clone(), pipe.assign);
                }
                _ => {}
            }
            let inner = self.vars.len();
            let r = self.walk(&x, list, out);
            self.vars.truncate(inner);
            match r {
                Ok(()) | Err(Flow::Continue) => {}
                Err(Flow::Break) => break,
                Err(e) => return Err(e),
            }
            if !pipe.assign {
                self.vars.truncate(mark);
            }
        }
        self.vars.truncate(mark);
        Ok(())
    }

    fn set_decl(&mut self, name: &str, v: Value, assign: bool) {
        if assign {
            if let Some(slot) = self.vars.iter_mut().rev().find(|(n, _)| n == name) {
                slot.1 = v;
            }
        } else {
            self.vars.push((name.to_string(), v));
        }
    }

    fn pipeline(&mut self, dot: &Value, p: &Pipe) -> R<Value> {
        let mut v: Option<Value> = None;
        for c in &p.cmds {
            v = Some(self.command(dot, c, v)?);
        }
        let v = v.unwrap_or(Value::NoValue);
        for d in &p.decl {
            self.set_decl(d, v.clone(), p.assign);
        }
        Ok(v)
    }

    fn command(&mut self, dot: &Value, c: &Cmd, fin: Option<Value>) -> R<Value> {
        let first = &c.args[0];
        let rest = &c.args[1..];
        self.at(first.pos, &first.arg);
        match &first.arg {
            Arg::Field(fs) => self.field_chain(dot, dot.clone(), first, fs, rest, fin),
            Arg::Var(name, fs) => {
                let v = self.var(name)?;
                if fs.is_empty() {
                    self.not_a_function(c, fin.as_ref())?;
                    return Ok(v);
                }
                self.field_chain(dot, v, first, fs, rest, fin)
            }
            Arg::Chain(p, fs) => {
                let v = self.pipeline(dot, p)?;
                if fs.is_empty() {
                    self.not_a_function(c, fin.as_ref())?;
                    return Ok(v);
                }
                self.at(first.pos, &first.arg);
                self.field_chain(dot, v, first, fs, rest, fin)
            }
            Arg::Ident(name) => self.function(dot, c, first, name, rest, fin),
            Arg::FuncChain(name, fs) => {
                let v = self.function(dot, c, first, name, &[], None)?;
                self.field_chain(dot, v, first, fs, rest, fin)
            }
            Arg::Nil => self.errorf("nil is not a command"),
            _ => {
                self.not_a_function(c, fin.as_ref())?;
                self.arg(dot, first)
            }
        }
    }

    fn not_a_function(&self, c: &Cmd, fin: Option<&Value>) -> R<()> {
        if c.args.len() > 1 || fin.is_some() {
            return self.errorf(format!(
                "can't give argument to non-function {}",
                c.args[0].arg
            ));
        }
        Ok(())
    }

    fn var(&self, name: &str) -> R<Value> {
        match self.vars.iter().rev().find(|(n, _)| n == name) {
            Some((_, v)) => Ok(v.clone()),
            None => self.errorf(format!("undefined variable: {name}")),
        }
    }

    fn field_chain(
        &mut self,
        dot: &Value,
        mut recv: Value,
        node: &Operand,
        fields: &[String],
        args: &[Operand],
        fin: Option<Value>,
    ) -> R<Value> {
        let n = fields.len();
        for f in &fields[..n - 1] {
            recv = self.field(dot, recv, f, node, &[], None)?;
        }
        self.field(dot, recv, &fields[n - 1], node, args, fin)
    }

    fn field(
        &mut self,
        _dot: &Value,
        recv: Value,
        name: &str,
        node: &Operand,
        args: &[Operand],
        fin: Option<Value>,
    ) -> R<Value> {
        self.at(node.pos, &node.arg);
        let has_args = !args.is_empty() || fin.is_some();
        match &recv {
            Value::NoValue | Value::Nil => Ok(Value::NoValue),
            Value::NotComputed(_) => {
                self.printable(&recv)?;
                Ok(Value::NoValue)
            }
            Value::Ptr(s) => {
                if let Some((_, v)) = s.methods.iter().find(|(n, _)| *n == name) {
                    if has_args {
                        let got = args.len() + usize::from(fin.is_some());
                        return self
                            .errorf(format!("wrong number of args for {name}: want 0 got {got}"));
                    }
                    return Ok(v.clone());
                }
                if let Some((_, v)) = s.fields.iter().find(|(n, _)| *n == name) {
                    if has_args {
                        return self.errorf(format!(
                            "{name} has arguments but cannot be invoked as function"
                        ));
                    }
                    if let Value::NotComputed(_) = v {
                        self.printable(v)?;
                    }
                    return Ok(v.clone());
                }
                self.errorf(format!("can't evaluate field {name} in type {}", s.ty))
            }
            Value::NilPtr(t, fields) if fields.contains(&name) => {
                self.errorf(format!("nil pointer evaluating {t}.{name}"))
            }
            Value::Map(m) => {
                if has_args {
                    return self.errorf(format!("{name} is not a method but has arguments"));
                }
                Ok(m.entries.get(name).cloned().unwrap_or(Value::NoValue))
            }
            other => self.errorf(format!(
                "can't evaluate field {name} in type {}",
                other.type_name()
            )),
        }
    }

    /// An operand as a function argument.
    fn arg(&mut self, dot: &Value, a: &Operand) -> R<Value> {
        self.at(a.pos, &a.arg);
        Ok(match &a.arg {
            Arg::Dot => dot.clone(),
            Arg::Nil => Value::Nil,
            Arg::Bool(b) => Value::Bool(*b),
            Arg::Number(_, Num::Int(i)) => Value::Int(*i),
            Arg::Number(_, Num::Float(f)) => Value::Float(*f),
            Arg::Str(_, s) => Value::str(s.as_str()),
            Arg::Field(fs) => self.field_chain(dot, dot.clone(), a, fs, &[], None)?,
            Arg::Var(name, fs) => {
                let v = self.var(name)?;
                if fs.is_empty() {
                    v
                } else {
                    self.field_chain(dot, v, a, fs, &[], None)?
                }
            }
            Arg::Chain(p, fs) => {
                let v = self.pipeline(dot, p)?;
                if fs.is_empty() {
                    v
                } else {
                    self.field_chain(dot, v, a, fs, &[], None)?
                }
            }
            Arg::Ident(name) => {
                let c = Cmd {
                    pos: a.pos,
                    args: vec![a.clone()],
                };
                self.function(dot, &c, a, name, &[], None)?
            }
            Arg::FuncChain(name, fs) => {
                let c = Cmd {
                    pos: a.pos,
                    args: vec![Operand {
                        pos: a.pos,
                        arg: Arg::Ident(name.clone()),
                    }],
                };
                let v = self.function(dot, &c, a, name, &[], None)?;
                self.field_chain(dot, v, a, fs, &[], None)?
            }
        })
    }

    fn function(
        &mut self,
        dot: &Value,
        cmd: &Cmd,
        node: &Operand,
        name: &str,
        args: &[Operand],
        fin: Option<Value>,
    ) -> R<Value> {
        let got = args.len() + usize::from(fin.is_some());
        let want = |s: &Self, min: usize, exact: bool| -> R<()> {
            if (exact && got != min) || got < min {
                let mut st = State {
                    t: s.t,
                    vars: Vec::new(),
                    at: (node.pos, node.arg.to_string()),
                };
                st.at(node.pos, &node.arg);
                return st.errorf(if exact {
                    format!("wrong number of args for {name}: want {min} got {got}")
                } else {
                    format!("wrong number of args for {name}: want at least {min} got {got}")
                });
            }
            Ok(())
        };
        // and/or evaluate their arguments only as far as needed.
        if name == "and" || name == "or" {
            want(self, 1, false)?;
            let mut v = Value::NoValue;
            for a in args {
                v = self.arg(dot, a)?;
                if v.truth() == (name == "or") {
                    return Ok(v);
                }
            }
            if let Some(f) = fin {
                v = f;
            }
            return Ok(v);
        }
        if let Some(def) = self.t.funcs.get(name).cloned() {
            let n = def.params.len();
            want(self, if def.variadic { n - 1 } else { n }, !def.variadic)?;
            let mut vals = Vec::new();
            for (i, a) in args.iter().enumerate() {
                let ty = def.params[i.min(n.saturating_sub(1))];
                vals.push(self.typed_arg(dot, a, ty)?);
            }
            if let Some(f) = fin {
                let ty = def.params[vals.len().min(n.saturating_sub(1))];
                self.at(node.pos, &node.arg);
                vals.push(self.check_type(f, ty)?);
            }
            self.at(cmd.pos, cmd);
            return match (def.body)(&vals) {
                Ok(v) => Ok(v),
                Err(e) => self.errorf(format!("error calling {name}: {e}")),
            };
        }
        let (min, exact) = match name {
            "len" | "not" => (1, true),
            "ne" | "lt" | "le" | "gt" | "ge" => (2, true),
            "index" | "slice" | "printf" | "eq" | "call" => (1, false),
            _ => (0, false),
        };
        want(self, min, exact)?;
        let mut vals = Vec::new();
        for (i, a) in args.iter().enumerate() {
            if i == 0 && name == "printf" {
                vals.push(self.typed_arg(dot, a, "string")?);
            } else {
                vals.push(self.arg(dot, a)?);
            }
        }
        if let Some(f) = fin {
            vals.push(f);
        }
        for v in &vals {
            if let Value::NotComputed(_) = v {
                self.printable(v)?;
            }
        }
        self.at(cmd.pos, cmd);
        match builtin(name, &vals) {
            Ok(v) => Ok(v),
            Err(e) => self.errorf(format!("error calling {name}: {e}")),
        }
    }

    /// An argument for a parameter of Go type `ty`, with go's complaints.
    fn typed_arg(&mut self, dot: &Value, a: &Operand, ty: &str) -> R<Value> {
        self.at(a.pos, &a.arg);
        match (&a.arg, ty) {
            (Arg::Str(..), "string") => self.arg(dot, a),
            (Arg::Bool(_) | Arg::Number(..), "string") => {
                self.errorf(format!("expected string; found {}", a.arg))
            }
            (Arg::Bool(_) | Arg::Number(..) | Arg::Str(..), t) if t != "any" => {
                self.errorf(format!("can't handle {} for arg of type {t}", a.arg))
            }
            (Arg::Nil, t) if !t.starts_with('*') && !t.starts_with('[') && t != "any" => {
                self.errorf(format!("cannot assign nil to {t}"))
            }
            _ => {
                let v = self.arg(dot, a)?;
                self.at(a.pos, &a.arg);
                self.check_type(v, ty)
            }
        }
    }

    fn check_type(&self, v: Value, ty: &str) -> R<Value> {
        if ty == "any" {
            return Ok(v);
        }
        match &v {
            Value::NoValue => self.errorf(format!("invalid value; expected {ty}")),
            Value::Nil if ty.starts_with('*') || ty.starts_with('[') => Ok(v),
            Value::NotComputed(_) => {
                self.printable(&v)?;
                Ok(v)
            }
            _ if v.type_name() == ty => Ok(v),
            _ => self.errorf(format!(
                "wrong type for value; expected {ty}; got {}",
                v.type_name()
            )),
        }
    }

    /// What an action prints: fmt.Fprint of the value, indirected.
    fn printable(&self, v: &Value) -> R<String> {
        if let Some(why) = not_computed(v) {
            return self.errorf(why);
        }
        match print_top(v) {
            Some(s) => Ok(s),
            None => self.errorf(format!(
                "can't print {} of type {}",
                self.at.1,
                v.type_name()
            )),
        }
    }
}

/// The reason a value, or a field of a struct printed whole, is not computed.
fn not_computed(v: &Value) -> Option<&'static str> {
    match v {
        Value::NotComputed(why) => Some(why),
        Value::Ptr(s) if s.text.is_none() => s.fields.iter().find_map(|(_, f)| not_computed(f)),
        _ => None,
    }
}

/// The builtins other than and/or, over evaluated arguments.
fn builtin(name: &str, a: &[Value]) -> Result<Value, String> {
    Ok(match name {
        "not" => Value::Bool(!a[0].truth()),
        "len" => Value::Int(match &a[0] {
            Value::Str(s) => s.len() as i64,
            Value::List(l) => l.items.len() as i64,
            Value::Map(m) => m.entries.len() as i64,
            Value::NoValue | Value::Nil => return Err("len of nil pointer".into()),
            v => return Err(format!("len of type {}", v.type_name())),
        }),
        "index" => {
            let mut v = a[0].clone();
            for i in &a[1..] {
                v = index(&v, i)?;
            }
            v
        }
        "slice" => slice(&a[0], &a[1..])?,
        "print" => Value::str(sprint(a)),
        "println" => Value::str(sprintln(a)),
        "printf" => {
            let Value::Str(f) = &a[0] else {
                return Err("printf: format is not a string".into());
            };
            Value::str(sprintf(f, &a[1..]))
        }
        "eq" => {
            if a.len() < 2 {
                return Err("missing argument for comparison".into());
            }
            let mut t = false;
            for b in &a[1..] {
                if compare_eq(&a[0], b)? {
                    t = true;
                    break;
                }
            }
            Value::Bool(t)
        }
        "ne" => Value::Bool(!compare_eq(&a[0], &a[1])?),
        "lt" | "le" | "gt" | "ge" => {
            let o = compare_order(&a[0], &a[1])?;
            use std::cmp::Ordering::*;
            Value::Bool(match name {
                "lt" => o == Less,
                "le" => o != Greater,
                "gt" => o == Greater,
                _ => o != Less,
            })
        }
        "html" => Value::str(html_escape(&eval_args(a))),
        "js" => Value::str(js_escape(&eval_args(a))),
        "urlquery" => Value::str(query_escape(&eval_args(a))),
        "call" => {
            return Err(format!(
                "non-function {} of type {}",
                super::fmt::print_top(&a[0]).unwrap_or_default(),
                a[0].type_name()
            ))
        }
        _ => return Err(format!("{name} is not a defined function")),
    })
}

/// text/template's evalArgs: one argument printed as itself, several as fmt.Sprint.
fn eval_args(a: &[Value]) -> String {
    match a {
        [Value::Str(s)] => s.to_string(),
        _ => sprint(a),
    }
}

#[derive(PartialEq)]
enum Kind {
    Bool,
    Int,
    Float,
    Str,
    Other,
}

fn kind(v: &Value) -> Kind {
    match v {
        Value::Bool(_) => Kind::Bool,
        Value::Int(_) => Kind::Int,
        Value::Float(_) => Kind::Float,
        Value::Str(_) => Kind::Str,
        _ => Kind::Other,
    }
}

fn is_nil(v: &Value) -> bool {
    matches!(v, Value::Nil | Value::NilPtr(..) | Value::NoValue)
}

fn compare_eq(a: &Value, b: &Value) -> Result<bool, String> {
    let (ka, kb) = (kind(a), kind(b));
    if ka != kb {
        if !matches!(a, Value::NoValue | Value::Nil) && !matches!(b, Value::NoValue | Value::Nil) {
            return Err(format!(
                "incompatible types for comparison: {} and {}",
                a.type_name(),
                b.type_name()
            ));
        }
        return Ok(false);
    }
    Ok(match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => x == y,
        _ if is_nil(a) || is_nil(b) => is_nil(a) == is_nil(b),
        (Value::Ptr(x), Value::Ptr(y)) => Rc::ptr_eq(x, y),
        _ => {
            return Err(format!(
                "non-comparable types {}: {}, {}: {}",
                print_top(a).unwrap_or_default(),
                a.type_name(),
                b.type_name(),
                print_top(b).unwrap_or_default()
            ))
        }
    })
}

fn compare_order(a: &Value, b: &Value) -> Result<std::cmp::Ordering, String> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Ok(x.cmp(y)),
        (Value::Float(x), Value::Float(y)) => x.partial_cmp(y).ok_or_else(|| "NaN".to_string()),
        (Value::Str(x), Value::Str(y)) => Ok(x.cmp(y)),
        _ if kind(a) == Kind::Other || kind(a) == Kind::Bool => {
            Err("invalid type for comparison".into())
        }
        _ => Err(format!(
            "incompatible types for comparison: {} and {}",
            a.type_name(),
            b.type_name()
        )),
    }
}

fn index(v: &Value, i: &Value) -> Result<Value, String> {
    match v {
        Value::List(l) => {
            let Value::Int(n) = i else {
                return Err(format!(
                    "cannot index slice/array with type {}",
                    i.type_name()
                ));
            };
            // go checks the index against the slice's capacity, then reflect
            // panics past its length; gob's slices are as long as they hold.
            if *n < 0 || *n as usize > l.items.len() {
                return Err(format!("index out of range: {n}"));
            }
            match l.items.get(*n as usize) {
                Some(v) => Ok(v.clone()),
                None => Err("reflect: slice index out of range".into()),
            }
        }
        Value::Str(s) => {
            let Value::Int(n) = i else {
                return Err(format!(
                    "cannot index slice/array with type {}",
                    i.type_name()
                ));
            };
            if *n < 0 || *n as usize >= s.len() {
                return Err(format!("index out of range: {n}"));
            }
            Ok(Value::Int(s.as_bytes()[*n as usize] as i64))
        }
        Value::Map(m) => match i {
            Value::Str(k) => Ok(m
                .entries
                .get(&**k)
                .cloned()
                .unwrap_or_else(|| m.zero.clone())),
            Value::Nil | Value::NoValue => Err("value is nil; should be of type string".into()),
            _ => Err(format!(
                "value has type {}; should be string",
                i.type_name()
            )),
        },
        Value::NoValue | Value::Nil => Err("index of untyped nil".into()),
        Value::NilPtr(t, _) => Err(format!("index of nil pointer of type {t}")),
        _ => Err(format!("can't index item of type {}", v.type_name())),
    }
}

fn slice(v: &Value, idx: &[Value]) -> Result<Value, String> {
    let len = match v {
        Value::Str(s) => s.len(),
        Value::List(l) => l.items.len(),
        Value::NoValue | Value::Nil => return Err("slice of untyped nil".into()),
        _ => return Err(format!("can't slice item of type {}", v.type_name())),
    };
    if idx.len() > 3 {
        return Err(format!("too many slice indexes: {}", idx.len()));
    }
    if idx.len() == 3 && matches!(v, Value::Str(_)) {
        return Err("cannot 3-index slice a string".into());
    }
    let mut ix = [0usize, len, len];
    for (k, i) in idx.iter().enumerate() {
        let Value::Int(n) = i else {
            return Err(format!(
                "cannot index slice/array with type {}",
                i.type_name()
            ));
        };
        if *n < 0 || *n as usize > len {
            return Err(format!("index out of range: {n}"));
        }
        ix[k] = *n as usize;
    }
    if ix[0] > ix[1] {
        return Err(format!("invalid slice index: {} > {}", ix[0], ix[1]));
    }
    Ok(match v {
        Value::Str(s) => Value::str(s.get(ix[0]..ix[1]).unwrap_or_default()),
        Value::List(l) => Value::list(l.ty, l.items[ix[0]..ix[1]].to_vec()),
        _ => Value::NoValue,
    })
}

/// text/template's HTMLEscapeString.
fn html_escape(s: &str) -> String {
    let mut o = String::new();
    for c in s.chars() {
        match c {
            '"' => o.push_str("&#34;"),
            '\'' => o.push_str("&#39;"),
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '\0' => o.push('\u{FFFD}'),
            c => o.push(c),
        }
    }
    o
}

/// text/template's JSEscapeString.
fn js_escape(s: &str) -> String {
    let mut o = String::new();
    for c in s.chars() {
        match c {
            '\\' => o.push_str("\\\\"),
            '\'' => o.push_str("\\'"),
            '"' => o.push_str("\\\""),
            '<' => o.push_str("\\u003C"),
            '>' => o.push_str("\\u003E"),
            '&' => o.push_str("\\u0026"),
            '=' => o.push_str("\\u003D"),
            '\n' => o.push_str("\\n"),
            '\r' => o.push_str("\\r"),
            '\t' => o.push_str("\\t"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04X}", c as u32)),
            c => o.push(c),
        }
    }
    o
}

/// net/url's QueryEscape.
fn query_escape(s: &str) -> String {
    let mut o = String::new();
    for b in s.bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                o.push(b as char)
            }
            b' ' => o.push('+'),
            _ => o.push_str(&format!("%{b:02X}")),
        }
    }
    o
}
