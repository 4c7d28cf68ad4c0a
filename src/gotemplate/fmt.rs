//! Go's `fmt` printing of template values: `Fprint` (what an action prints,
//! after text/template's printableValue), `Sprint`, `Sprintln` and `Sprintf`
//! with go's verbs, flags and `%!v(...)` complaints.

use super::Value;
use crate::load::modfile::go_quote;

/// What `{{pipeline}}` prints: printableValue (a pointer is indirected, a
/// missing value is `<no value>`) then fmt.Fprint. None when go cannot print it.
pub fn print_top(v: &Value) -> Option<String> {
    Some(match v {
        Value::NoValue => "<no value>".into(),
        Value::NotComputed(_) => return None,
        Value::Ptr(s) if s.text.is_none() => struct_body(s, 'v', &Flags::default(), 0),
        v => fmt_v(v, 0),
    })
}

/// `%v` at a depth (fmt prints methods' results, pointers at depth 0 as `&{…}`).
fn fmt_v(v: &Value, depth: usize) -> String {
    fmt_verb(v, 'v', &Flags::default(), depth)
}

fn struct_body(s: &super::Struct, verb: char, fl: &Flags, depth: usize) -> String {
    let mut o = String::from("{");
    for (i, (name, f)) in s.fields.iter().enumerate() {
        if i > 0 {
            o.push(' ');
        }
        if fl.plus && verb == 'v' {
            o.push_str(name);
            o.push(':');
        }
        o.push_str(&fmt_verb(f, verb, fl, depth + 1));
    }
    o.push('}');
    o
}

/// fmt.Sprint: a space between operands when neither is a string.
pub fn sprint(args: &[Value]) -> String {
    let mut o = String::new();
    let mut prev_str = false;
    for (i, a) in args.iter().enumerate() {
        let is_str = matches!(a, Value::Str(_));
        if i > 0 && !is_str && !prev_str {
            o.push(' ');
        }
        o.push_str(&fmt_v(a, 0));
        prev_str = is_str;
    }
    o
}

/// fmt.Sprintln: spaces between all operands, a newline at the end.
pub fn sprintln(args: &[Value]) -> String {
    let parts: Vec<String> = args.iter().map(|a| fmt_v(a, 0)).collect();
    parts.join(" ") + "\n"
}

#[derive(Default, Clone)]
struct Flags {
    minus: bool,
    plus: bool,
    sharp: bool,
    space: bool,
    zero: bool,
    width: Option<usize>,
    prec: Option<usize>,
}

/// fmt.Sprintf.
pub fn sprintf(format: &str, args: &[Value]) -> String {
    let mut o = String::new();
    let mut cs = format.chars().peekable();
    let mut argi = 0;
    while let Some(c) = cs.next() {
        if c != '%' {
            o.push(c);
            continue;
        }
        let mut fl = Flags::default();
        while let Some(&f) = cs.peek() {
            match f {
                '-' => fl.minus = true,
                '+' => fl.plus = true,
                '#' => fl.sharp = true,
                ' ' => fl.space = true,
                '0' => fl.zero = true,
                _ => break,
            }
            cs.next();
        }
        let num = |cs: &mut std::iter::Peekable<std::str::Chars<'_>>, argi: &mut usize| {
            if cs.peek() == Some(&'*') {
                cs.next();
                let n = match args.get(*argi) {
                    Some(Value::Int(n)) => Some((*n).max(0) as usize),
                    _ => None,
                };
                *argi += 1;
                return n;
            }
            let mut n: Option<usize> = None;
            while let Some(d) = cs.peek().and_then(|c| c.to_digit(10)) {
                n = Some(n.unwrap_or(0) * 10 + d as usize);
                cs.next();
            }
            n
        };
        fl.width = num(&mut cs, &mut argi);
        if cs.peek() == Some(&'.') {
            cs.next();
            fl.prec = Some(num(&mut cs, &mut argi).unwrap_or(0));
        }
        let Some(verb) = cs.next() else {
            o.push_str("%!(NOVERB)");
            break;
        };
        if verb == '%' {
            o.push('%');
            continue;
        }
        let Some(a) = args.get(argi) else {
            o.push_str(&format!("%!{verb}(MISSING)"));
            continue;
        };
        argi += 1;
        o.push_str(&fmt_verb(a, verb, &fl, 0));
    }
    if argi < args.len() {
        o.push_str("%!(EXTRA ");
        let extra: Vec<String> = args[argi..]
            .iter()
            .map(|a| match a {
                Value::Nil => "<nil>".to_string(),
                a => format!("{}={}", a.type_name(), fmt_v(a, 0)),
            })
            .collect();
        o.push_str(&extra.join(", "));
        o.push(')');
    }
    o
}

fn bad_verb(v: &Value, verb: char) -> String {
    match v {
        Value::Nil => format!("%!{verb}(<nil>)"),
        _ => format!("%!{verb}({}={})", v.type_name(), fmt_v(v, 0)),
    }
}

fn pad(s: String, fl: &Flags, numeric: bool) -> String {
    let Some(w) = fl.width else { return s };
    let n = s.chars().count();
    if n >= w {
        return s;
    }
    let fill = w - n;
    if fl.minus {
        return s + &" ".repeat(fill);
    }
    if fl.zero {
        if numeric && (s.starts_with('-') || s.starts_with('+')) {
            let (sign, rest) = s.split_at(1);
            return format!("{sign}{}{rest}", "0".repeat(fill));
        }
        return "0".repeat(fill) + &s;
    }
    " ".repeat(fill) + &s
}

/// One operand under one verb, as fmt's printValue does.
fn fmt_verb(v: &Value, verb: char, fl: &Flags, depth: usize) -> String {
    if verb == 'T' {
        return pad(v.type_name(), fl, false);
    }
    match v {
        Value::NoValue => "<invalid reflect.Value>".into(),
        Value::NotComputed(_) => "<not computed>".into(),
        Value::Nil => match verb {
            'v' => pad("<nil>".into(), fl, false),
            _ => bad_verb(v, verb),
        },
        Value::NilPtr(..) => pad("<nil>".into(), fl, false),
        Value::Bool(b) => match verb {
            'v' | 't' => pad(b.to_string(), fl, false),
            _ => bad_verb(v, verb),
        },
        Value::Int(i) => fmt_int(*i, verb, fl).unwrap_or_else(|| bad_verb(v, verb)),
        Value::Float(f) => fmt_float(*f, verb, fl).unwrap_or_else(|| bad_verb(v, verb)),
        Value::Str(s) => fmt_str(s, verb, fl).unwrap_or_else(|| bad_verb(v, verb)),
        Value::List(l) => {
            let parts: Vec<String> = l
                .items
                .iter()
                .map(|x| fmt_verb(x, verb, fl, depth + 1))
                .collect();
            format!("[{}]", parts.join(" "))
        }
        Value::Map(m) => {
            let parts: Vec<String> = m
                .entries
                .iter()
                .map(|(k, x)| {
                    format!(
                        "{}:{}",
                        fmt_str(k, verb, fl).unwrap_or_else(|| k.clone()),
                        fmt_verb(x, verb, fl, depth + 1)
                    )
                })
                .collect();
            format!("map[{}]", parts.join(" "))
        }
        Value::Ptr(s) => match (&s.text, verb) {
            (Some(t), 'v' | 's' | 'x' | 'X' | 'q') => fmt_str(t, verb, fl).unwrap_or_default(),
            // A struct value (not behind a pointer) prints without the `&`.
            _ if !s.ty.starts_with('*') => struct_body(s, verb, fl, depth),
            _ => format!("&{}", struct_body(s, verb, fl, depth)),
        },
    }
}

fn fmt_int(i: i64, verb: char, fl: &Flags) -> Option<String> {
    let sign = |s: String| {
        if i >= 0 && fl.plus {
            format!("+{s}")
        } else if i >= 0 && fl.space {
            format!(" {s}")
        } else {
            s
        }
    };
    let mag = i.unsigned_abs();
    let neg = if i < 0 { "-" } else { "" };
    let s = match verb {
        'v' | 'd' => sign(i.to_string()),
        'b' => sign(format!("{neg}{mag:b}")),
        'o' => sign(format!("{neg}{}{mag:o}", if fl.sharp { "0" } else { "" })),
        'O' => sign(format!("{neg}0o{mag:o}")),
        'x' => sign(format!("{neg}{}{mag:x}", if fl.sharp { "0x" } else { "" })),
        'X' => sign(format!("{neg}{}{mag:X}", if fl.sharp { "0X" } else { "" })),
        'c' => {
            return Some(pad(
                char::from_u32(i as u32).unwrap_or('\u{FFFD}').to_string(),
                fl,
                false,
            ))
        }
        'q' => {
            let c = char::from_u32(i as u32).unwrap_or('\u{FFFD}');
            let q = go_quote(&c.to_string());
            let inner = &q[1..q.len() - 1];
            let inner = if c == '\'' {
                "\\'"
            } else if c == '"' {
                "\""
            } else {
                inner
            };
            return Some(pad(format!("'{inner}'"), fl, false));
        }
        'U' => return Some(pad(format!("U+{:04X}", i), fl, false)),
        _ => return None,
    };
    let s = match fl.prec {
        Some(p) => {
            let digits = s.trim_start_matches(['-', '+', ' ']);
            let head = &s[..s.len() - digits.len()];
            format!(
                "{head}{}{digits}",
                "0".repeat(p.saturating_sub(digits.len()))
            )
        }
        None => s,
    };
    Some(pad(s, fl, true))
}

/// Go's exponent form: at least two digits, with a sign.
fn go_exp(s: &str) -> String {
    match s.split_once('e') {
        Some((m, e)) => {
            let (sign, d) = match e.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', e),
            };
            format!("{m}e{sign}{d:0>2}")
        }
        None => s.to_string(),
    }
}

fn fmt_float(f: f64, verb: char, fl: &Flags) -> Option<String> {
    let s = if f.is_nan() {
        "NaN".to_string()
    } else if f.is_infinite() {
        if f > 0.0 { "+Inf" } else { "-Inf" }.to_string()
    } else {
        match verb {
            'v' | 'g' | 'G' => match fl.prec {
                None => {
                    // strconv's shortest 'g': %e when the exponent is < -4 or >= 6.
                    let e = format!("{f:e}");
                    let exp: i32 = e
                        .split_once('e')
                        .and_then(|(_, x)| x.parse().ok())
                        .unwrap_or(0);
                    if !(-4..6).contains(&exp) {
                        go_exp(&e)
                    } else {
                        format!("{f}")
                    }
                }
                Some(p) => {
                    let p = p.max(1);
                    let e = format!("{:.*e}", p - 1, f);
                    let exp: i32 = e
                        .split_once('e')
                        .and_then(|(_, x)| x.parse().ok())
                        .unwrap_or(0);
                    if exp < -4 || exp >= p as i32 {
                        let (m, x) = e.split_once('e').unwrap_or((&e, "0"));
                        let m = if m.contains('.') {
                            m.trim_end_matches('0').trim_end_matches('.')
                        } else {
                            m
                        };
                        go_exp(&format!("{m}e{x}"))
                    } else {
                        let s = format!("{:.*}", (p as i32 - 1 - exp).max(0) as usize, f);
                        if s.contains('.') {
                            s.trim_end_matches('0').trim_end_matches('.').to_string()
                        } else {
                            s
                        }
                    }
                }
            },
            'f' | 'F' => format!("{:.*}", fl.prec.unwrap_or(6), f),
            'e' => go_exp(&format!("{:.*e}", fl.prec.unwrap_or(6), f)),
            'E' => go_exp(&format!("{:.*e}", fl.prec.unwrap_or(6), f)).to_uppercase(),
            _ => return None,
        }
    };
    let s = if f >= 0.0 && fl.plus {
        format!("+{s}")
    } else {
        s
    };
    Some(pad(s, fl, true))
}

fn fmt_str(s: &str, verb: char, fl: &Flags) -> Option<String> {
    let s = match fl.prec {
        Some(p) if matches!(verb, 'v' | 's' | 'q') => s.chars().take(p).collect::<String>(),
        _ => s.to_string(),
    };
    let out = match verb {
        'v' | 's' => s,
        'q' => {
            if fl.sharp && !s.contains('`') && s.chars().all(|c| c == '\t' || !c.is_control()) {
                format!("`{s}`")
            } else {
                go_quote(&s)
            }
        }
        'x' | 'X' => {
            let mut o = String::new();
            for (i, b) in s.bytes().enumerate() {
                if fl.space && i > 0 {
                    o.push(' ');
                }
                if verb == 'x' {
                    o.push_str(&format!("{b:02x}"));
                } else {
                    o.push_str(&format!("{b:02X}"));
                }
            }
            o
        }
        _ => return None,
    };
    Some(pad(out, fl, false))
}
