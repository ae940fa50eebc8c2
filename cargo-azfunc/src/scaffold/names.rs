//! The names a new app or function may take, and those derived from them.

pub(super) const RUST_KEYWORDS: [&str; 52] = [
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for",
    "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// Names a package of this app cannot take: cargo's own folders and
/// targets, the crates it depends on, and the app's own folders (the
/// release binary sits next to them under the package's name).
pub(super) const RESERVED_PACKAGE_NAMES: [&str; 14] = [
    "test",
    "deps",
    "examples",
    "build",
    "incremental",
    "std",
    "core",
    "alloc",
    "proc_macro",
    "azure_functions_rocket",
    "serde",
    "serde_json",
    "src",
    "target",
];

/// Why `name` cannot be a package name, if it cannot.
pub fn crate_name_problem(name: &str) -> Option<String> {
    let mut chars = name.chars();
    let first = chars.next()?;
    let bad = if !(first.is_ascii_alphabetic() || first == '_') {
        "starts with a letter or `_`"
    } else if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        "has only ASCII letters, digits, `-` and `_`"
    } else if name.len() > 64 {
        "has at most 64 characters"
    } else {
        let normal = name.replace('-', "_");
        if RUST_KEYWORDS.contains(&normal.as_str())
            || RESERVED_PACKAGE_NAMES.contains(&normal.to_ascii_lowercase().as_str())
        {
            return Some(format!(
                "{name:?} is not a valid crate name here: it is a Rust keyword or a name cargo, the dependencies or the app's folders already use; pass --name NAME"
            ));
        }
        return None;
    };
    Some(format!(
        "{name:?} is not a valid crate name: a crate name {bad}; pass --name NAME"
    ))
}

/// The folder name made a crate name: lowercase, other characters `_`.
pub fn crate_name_from_folder(folder: &str) -> String {
    let mut name: String = folder
        .chars()
        .map(|c| match c {
            'a'..='z' | '0'..='9' | '-' | '_' => c,
            'A'..='Z' => c.to_ascii_lowercase(),
            _ => '_',
        })
        .collect();
    if !name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        name.insert_str(0, "app_");
    }
    name
}

/// Why `name` cannot be a function name, if it cannot: Azure's rule is a
/// letter, then letters, digits, `_` and `-`, 127 characters at most.
pub fn function_name_problem(name: &str) -> Option<String> {
    let valid = name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && name.len() <= 127;
    if !valid {
        return Some(format!(
            "{name:?} is not a valid function name: it starts with a letter and has only letters, digits, `_` and `-`, at most 127 characters"
        ));
    }
    // Publishing leaves these folders out (.funcignore), so the host would
    // never see the function.
    if ["src", "target", "tests"].contains(&name.to_ascii_lowercase().as_str()) {
        return Some(format!(
            "{name:?} cannot be a function name here: the folder {name} is left out of what is published; choose another name"
        ));
    }
    None
}

/// The module of function `name`: snake case (`QueueArea` -> `queue_area`),
/// with `_function` after a name Rust or `main.rs` keeps for itself.
pub fn module_name(name: &str) -> String {
    let mut module = String::new();
    let chars: Vec<char> = name.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c == '-' || c == '_' {
            if !module.ends_with('_') {
                module.push('_');
            }
            continue;
        }
        if c.is_ascii_uppercase() {
            let previous = i.checked_sub(1).map(|p| chars[p]);
            let next = chars.get(i + 1);
            // A new word: after a lowercase letter or a digit, or at the
            // last capital of an acronym (`HTTPThing` -> `http_thing`).
            let starts_word = previous
                .is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit())
                || (previous.is_some_and(|p| p.is_ascii_uppercase())
                    && next.is_some_and(|n| n.is_ascii_lowercase()));
            if starts_word && !module.ends_with('_') {
                module.push('_');
            }
            module.push(c.to_ascii_lowercase());
        } else {
            module.push(c);
        }
    }
    let module = module.trim_end_matches('_').to_owned();
    if RUST_KEYWORDS.contains(&module.as_str())
        || ["main", "lib", "tests"].contains(&module.as_str())
    {
        format!("{module}_function")
    } else {
        module
    }
}

/// Why `queue` cannot be the queue name `new function` writes, if it
/// cannot: the storage service's rules (function-app's, as `check` applies
/// them), written in lowercase as the service keeps it; or an app
/// setting's `%NAME%`, judged once its value is known.
pub fn queue_name_problem(queue: &str) -> Option<String> {
    if queue.len() > 2 && queue.starts_with('%') && queue.ends_with('%') {
        let setting = &queue[1..queue.len() - 1];
        if setting
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == ':')
        {
            return None;
        }
    }
    if let Some(problem) = function_app::queue_name_problem(queue) {
        return Some(format!(
            "{problem} (or give %SETTING% for an app setting that holds it)"
        ));
    }
    (queue.to_lowercase() != queue).then(|| {
        format!(
            "the queue name {queue:?} has capitals: the storage service keeps queue names in lowercase, so write it so ({:?})",
            queue.to_lowercase()
        )
    })
}

/// The binding name for an output queue: its name as an identifier.
pub(super) fn queue_binding(queue: &str) -> String {
    let name: String = queue
        .trim_matches('%')
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("queue_{name}")
    } else {
        name
    }
}

/// The name of the blob output binding.
pub(super) const BLOB_BINDING: &str = "blob";
