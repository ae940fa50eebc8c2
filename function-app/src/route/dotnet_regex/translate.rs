//! A .NET pattern written out in the `regex` crate's syntax, construct by
//! construct. The two read many things differently (`{` alone, `[` and `&&`
//! inside a class, `\<`, `$`), so every literal is escaped and every
//! construct rewritten; what the crate cannot match as .NET does is refused
//! naming the construct.

use std::iter::Peekable;
use std::str::Chars;

/// The pattern in the crate's syntax, `$` and `\Z` left as [`Piece::End`]:
/// .NET's end of text, or before a final newline, has no one equivalent
/// (see the module `dotnet_regex`).
#[derive(Debug, PartialEq)]
pub(super) enum Piece {
    Text(String),
    /// An atom that can match a newline.
    Newline(String),
    End,
}

/// What one `\` escape stands for.
enum Escape {
    Char(char),
    /// `\d`, `\W`, ...: valid inside and outside a class.
    Set(&'static str),
    /// A zero-width assertion, valid outside a class only.
    Assertion(&'static str),
    End,
}

/// The .NET `pattern` in the crate's syntax, or why it is refused.
pub(super) fn translate(pattern: &str) -> Result<Vec<Piece>, String> {
    let mut chars = pattern.chars().peekable();
    let mut out = Out::default();
    // Open groups; whether the last thing written can take a quantifier;
    // whether it was a quantifier.
    let mut depth = 0usize;
    let mut repeatable = false;
    let mut quantified = false;
    while let Some(c) = chars.next() {
        let was_quantified = std::mem::take(&mut quantified);
        match c {
            '*' | '+' | '?' | '{' => {
                let count = if c == '{' { counts(&chars) } else { Some(0) };
                match count {
                    // `{` not followed by a count is a literal, as in .NET.
                    None => {
                        out.literal('{');
                        repeatable = true;
                        continue;
                    }
                    Some(length) => {
                        if was_quantified {
                            return Err(format!("the quantifier {c:?} follows a quantifier"));
                        }
                        if !repeatable {
                            return Err(format!("the quantifier {c:?} follows nothing"));
                        }
                        let mut text = c.to_string();
                        text.extend(chars.by_ref().take(length));
                        check_counts(&text)?;
                        if chars.peek() == Some(&'?') {
                            chars.next();
                            text.push('?');
                        }
                        out.text(&text);
                        quantified = true;
                    }
                }
            }
            '(' => {
                if chars.peek() == Some(&'?') {
                    chars.next();
                    if chars.peek() == Some(&'#') {
                        // `(?#...)`: a comment.
                        if !chars.by_ref().any(|c| c == ')') {
                            return Err("a \"(?#\" comment without its \")\"".to_owned());
                        }
                        quantified = was_quantified;
                        continue;
                    }
                    group(&mut chars)?;
                }
                out.text("(?:");
                depth += 1;
                repeatable = false;
            }
            ')' => {
                depth = depth.checked_sub(1).ok_or("a \")\" without its \"(\"")?;
                out.text(")");
                repeatable = true;
            }
            '|' => {
                out.text("|");
                repeatable = false;
            }
            '.' => {
                // Any character but a newline, whatever the crate's line
                // terminator.
                out.text(r"[^\n]");
                repeatable = true;
            }
            '^' => {
                out.text("(?:^)");
                repeatable = true;
            }
            '$' => {
                out.end();
                repeatable = true;
            }
            '[' => {
                let (class, newline) = class(&mut chars)?;
                out.atom(class, newline);
                repeatable = true;
            }
            '\\' => {
                match escape(&mut chars, false)? {
                    Escape::Char(c) => out.literal(c),
                    Escape::Set(set) => out.atom(set.to_owned(), set_has_newline(set)),
                    Escape::Assertion(assertion) => out.text(&format!("(?:{assertion})")),
                    Escape::End => out.end(),
                }
                repeatable = true;
            }
            c => {
                out.literal(c);
                repeatable = true;
            }
        }
    }
    if depth > 0 {
        return Err("a \"(\" without its \")\"".to_owned());
    }
    Ok(out.pieces)
}

#[derive(Default)]
struct Out {
    pieces: Vec<Piece>,
}

impl Out {
    fn text(&mut self, text: &str) {
        match self.pieces.last_mut() {
            Some(Piece::Text(last)) => last.push_str(text),
            _ => self.pieces.push(Piece::Text(text.to_owned())),
        }
    }

    fn literal(&mut self, c: char) {
        self.atom(::regex::escape(c.encode_utf8(&mut [0; 4])), c == '\n');
    }

    fn atom(&mut self, text: String, newline: bool) {
        match newline {
            true => self.pieces.push(Piece::Newline(text)),
            false => self.text(&text),
        }
    }

    fn end(&mut self) {
        self.pieces.push(Piece::End);
    }
}

/// After `{`: the length of `n}`, `n,}` or `n,m}` if that follows.
fn counts(chars: &Peekable<Chars>) -> Option<usize> {
    let ahead: String = chars.clone().take_while(|c| *c != '}').collect();
    let closed = chars.clone().nth(ahead.chars().count()) == Some('}');
    let number = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
    let valid = match ahead.split_once(',') {
        None => number(&ahead),
        Some((min, max)) => number(min) && (max.is_empty() || number(max)),
    };
    (closed && valid).then_some(ahead.len() + 1)
}

/// `{n,m}` with `m` below `n`, or a count past what .NET takes, is an error
/// there too.
fn check_counts(text: &str) -> Result<(), String> {
    let Some(inner) = text.strip_prefix('{').and_then(|t| t.strip_suffix('}')) else {
        return Ok(());
    };
    let number = |t: &str| {
        t.parse::<i32>()
            .map_err(|_| format!("the quantifier {text} counts past what .NET takes"))
    };
    if let Some((min, max)) = inner.split_once(',')
        && !max.is_empty()
        && number(max)? < number(min)?
    {
        return Err(format!(
            "the quantifier {text} has its maximum below its minimum"
        ));
    }
    inner
        .split(',')
        .filter(|t| !t.is_empty())
        .try_for_each(|t| number(t).map(drop))
}

/// After `(?`: a group whose name or kind does not change whether there is
/// a match, or the reason it is refused.
fn group(chars: &mut Peekable<Chars>) -> Result<(), String> {
    let refused = |construct: &str, what: &str| {
        Err(format!(
            "the group construct {construct} ({what}) is not one the regex crate matches as .NET does"
        ))
    };
    match chars.next() {
        Some(':') => Ok(()),
        Some(open @ ('<' | '\'')) => {
            let close = if open == '<' { '>' } else { '\'' };
            match chars.peek() {
                Some('=') => return refused("(?<=...)", "a lookbehind"),
                Some('!') => return refused("(?<!...)", "a negative lookbehind"),
                _ => {}
            }
            let name: String = chars.by_ref().take_while(|c| *c != close).collect();
            if name.contains('-') {
                return refused("(?<name1-name2>...)", "a balancing group");
            }
            if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_') {
                return Err(format!("the group name {name:?} is not one .NET takes"));
            }
            Ok(())
        }
        Some('=') => refused("(?=...)", "a lookahead"),
        Some('!') => refused("(?!...)", "a negative lookahead"),
        Some('>') => refused("(?>...)", "an atomic group"),
        Some('(') => refused("(?(...)...)", "a conditional"),
        Some(_) => Err(
            "inline options such as (?i) or (?x:...) are not taken: the constraint is already case-insensitive, and the others change what the pattern means".to_owned(),
        ),
        None => Err("a \"(?\" at the end".to_owned()),
    }
}

/// `\s`, `\S`, `\W` and `\D` take a newline.
fn set_has_newline(set: &str) -> bool {
    matches!(set, r"\s" | r"\S" | r"\W" | r"\D")
}

/// After `[`: the class in the crate's syntax, each character written as
/// `\x{...}`, so that nothing in it reads as the crate's own class syntax
/// (`[[:alpha:]]`, `&&`, `--`, `~~`, nested classes); and whether it takes
/// a newline.
fn class(chars: &mut Peekable<Chars>) -> Result<(String, bool), String> {
    let unclosed = || "a \"[\" without its \"]\"".to_owned();
    let mut out = String::from("[");
    let negated = chars.peek() == Some(&'^');
    if negated {
        chars.next();
        out.push('^');
    }
    let mut newline = false;
    let mut first = true;
    loop {
        let c = chars.next().ok_or_else(unclosed)?;
        if c == ']' && !first {
            out.push(']');
            return Ok((out, newline != negated));
        }
        first = false;
        let low = match c {
            '-' if chars.peek() == Some(&'[') => {
                return Err(subtraction_or(String::new(), chars));
            }
            '[' if chars.peek() == Some(&':') => {
                return Err("[:name:] inside a class is not matched as .NET does".to_owned());
            }
            '\\' => match escape(chars, true)? {
                Escape::Char(c) => c,
                Escape::Set(set) => {
                    out.push_str(set);
                    newline |= set_has_newline(set);
                    let mut ahead = chars.clone();
                    if ahead.next() == Some('-') && !matches!(ahead.next(), Some(']') | None) {
                        return Err(subtraction_or(
                            format!("a range cannot start at the class {set}"),
                            chars,
                        ));
                    }
                    continue;
                }
                _ => return Err("an escape a class cannot hold".to_owned()),
            },
            c => c,
        };
        let mut ahead = chars.clone();
        if ahead.next() == Some('-') && !matches!(ahead.peek(), Some(']') | None) {
            if ahead.peek() == Some(&'[') {
                return Err(subtraction_or(String::new(), chars));
            }
            chars.next();
            let high = match chars.next().ok_or_else(unclosed)? {
                '\\' => match escape(chars, true)? {
                    Escape::Char(c) => c,
                    _ => return Err("a range cannot end at a class".to_owned()),
                },
                c => c,
            };
            if high < low {
                return Err(format!("the range {low}-{high} is in reverse order"));
            }
            newline |= (low..=high).contains(&'\n');
            out.push_str(&format!("\\x{{{:X}}}-\\x{{{:X}}}", low as u32, high as u32));
        } else {
            newline |= low == '\n';
            out.push_str(&format!("\\x{{{:X}}}", low as u32));
        }
    }
}

/// `-[...]` after a class item is .NET's class subtraction.
fn subtraction_or(otherwise: String, chars: &Peekable<Chars>) -> String {
    let mut ahead = chars.clone();
    if otherwise.is_empty() || (ahead.next() == Some('-') && ahead.next() == Some('[')) {
        "class subtraction [a-z-[aeiou]] is not one the regex crate matches as .NET does".to_owned()
    } else {
        otherwise
    }
}

/// After a `\`; `in_class`: inside `[...]`, where `\b` is a backspace.
fn escape(chars: &mut Peekable<Chars>, in_class: bool) -> Result<Escape, String> {
    let c = chars.next().ok_or("a \"\\\" at the end")?;
    Ok(match c {
        'd' => Escape::Set(r"\d"),
        'D' => Escape::Set(r"\D"),
        'w' => Escape::Set(r"\w"),
        'W' => Escape::Set(r"\W"),
        's' => Escape::Set(r"\s"),
        'S' => Escape::Set(r"\S"),
        'b' if in_class => Escape::Char('\u{8}'),
        'b' => Escape::Assertion(r"\b"),
        'B' if !in_class => Escape::Assertion(r"\B"),
        'A' if !in_class => Escape::Assertion(r"\A"),
        'z' if !in_class => Escape::Assertion(r"\z"),
        'Z' if !in_class => Escape::End,
        't' => Escape::Char('\t'),
        'n' => Escape::Char('\n'),
        'r' => Escape::Char('\r'),
        'f' => Escape::Char('\u{c}'),
        'v' => Escape::Char('\u{b}'),
        'a' => Escape::Char('\u{7}'),
        'e' => Escape::Char('\u{1b}'),
        'x' | 'u' => {
            let digits = if c == 'x' { 2 } else { 4 };
            let hex: String = chars.by_ref().take(digits).collect();
            let code = u32::from_str_radix(&hex, 16)
                .ok()
                .filter(|_| hex.len() == digits && hex.bytes().all(|b| b.is_ascii_hexdigit()))
                .ok_or_else(|| format!("\\{c}{hex} is not {digits} hexadecimal digits"))?;
            Escape::Char(char::from_u32(code).ok_or_else(|| {
                format!(
                    "\\{c}{hex} is half of a UTF-16 pair, which the regex crate cannot match alone"
                )
            })?)
        }
        'c' => match chars.next() {
            Some(letter @ ('@'..='_' | 'a'..='z')) => {
                Escape::Char(char::from(letter.to_ascii_uppercase() as u8 - b'@'))
            }
            _ => return Err("\\c must be followed by a control letter".to_owned()),
        },
        '0'..='9' => {
            return Err(format!(
                "\\{c}, a backreference or an octal escape, is not one the regex crate matches"
            ));
        }
        'k' => {
            return Err(
                "\\k<name>, a backreference, is not one the regex crate matches".to_owned(),
            );
        }
        'p' | 'P' => {
            return Err(format!(
                "\\{c}{{...}}, a Unicode category or block, is not matched as .NET does"
            ));
        }
        'G' if !in_class => {
            return Err(
                "\\G (where the last match ended) is not one the regex crate matches".to_owned(),
            );
        }
        c if c.is_alphanumeric() || c == '_' => {
            return Err(format!(
                "\\{c} is not an escape .NET takes{}",
                if in_class { " inside a class" } else { "" }
            ));
        }
        c => Escape::Char(c),
    })
}
