//! Adding a function's module and registry line to the app's src/lib.rs
//! (src/main.rs in apps made before the registry moved to the library).

/// The opening line of the registry function in the lib.rs `new app`
/// writes, and in the main.rs it wrote before.
pub(super) const REGISTRY_FNS: [&str; 2] = [
    "pub fn registry() -> Registry {",
    "fn registry() -> Registry {",
];

/// `main_rs` with `mod <module>;` and the registry line added, when it has
/// the shape `new app` writes: a `pub fn registry() -> Registry` whose
/// body is one `Registry::new()` chain, closed by a `}` line.
pub fn add_to_main(main_rs: &str, module: &str, registry_line: &str) -> Option<String> {
    let lines: Vec<&str> = main_rs.lines().collect();
    let mut openings = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| REGISTRY_FNS.contains(&l.trim()));
    let (open, _) = openings.next()?;
    if openings.next().is_some() {
        return None;
    }
    let close = open + 1 + lines[open + 1..].iter().position(|l| *l == "}")?;
    let body = lines[open + 1..close].join("\n");
    let chain = body.trim();
    if !chain.starts_with("Registry::new()") || !chain.ends_with(')') || chain.contains(';') {
        return None;
    }
    // The last non-blank line of the body ends the chain.
    let last = (open + 1..close)
        .rev()
        .find(|&i| !lines[i].trim().is_empty())?;
    let mod_line = format!("mod {module};");
    let mod_lines: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| is_mod_line(l))
        .map(|(i, _)| i)
        .collect();
    // rustfmt keeps a block of `mod` lines sorted: insert in order.
    let mod_at = match mod_lines.first() {
        Some(&first) => {
            let block_end = (first..lines.len())
                .find(|&i| !is_mod_line(lines[i]))
                .unwrap_or(lines.len());
            (first..block_end)
                .find(|&i| lines[i] > mod_line.as_str())
                .unwrap_or(block_end)
        }
        None => lines
            .iter()
            .position(|l| !(l.starts_with("//!") || l.trim().is_empty()))
            .unwrap_or(0),
    };
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        if i == mod_at {
            out.push_str(&mod_line);
            out.push('\n');
            if mod_lines.is_empty() {
                out.push('\n');
            }
        }
        out.push_str(line);
        out.push('\n');
        if i == last {
            out.push_str("        ");
            out.push_str(registry_line);
            out.push('\n');
        }
    }
    Some(out)
}

pub(super) fn is_mod_line(line: &str) -> bool {
    line.starts_with("mod ") && line.ends_with(';') && !line.contains('{')
}

/// `text` with `names` in its one-line `use azure_functions_rocket::{...};`,
/// sorted as rustfmt sorts them; as it was when it has no such line.
pub fn add_imports(text: &str, names: &[&str]) -> String {
    const OPEN: &str = "use azure_functions_rocket::{";
    let mut out = String::new();
    let mut done = false;
    for line in text.lines() {
        match line
            .strip_prefix(OPEN)
            .and_then(|rest| rest.strip_suffix("};"))
        {
            Some(list) if !done => {
                let mut all: Vec<&str> = list
                    .split(',')
                    .map(str::trim)
                    .filter(|n| !n.is_empty())
                    .collect();
                for name in names {
                    if !all.contains(name) {
                        all.push(name);
                    }
                }
                all.sort_unstable();
                out.push_str(&format!("{OPEN}{}}};", all.join(", ")));
                done = true;
            }
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    out
}
