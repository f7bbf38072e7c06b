//! The language people read: every message the command line words itself comes from
//! one Fluent catalogue per language (`cli/i18n/LANG/custody.ftl`, compiled in).
//!
//! The language is `--lang`, else the locale (`LC_ALL`, `LC_MESSAGES`, `LANG`: the
//! first that is set; `ja…` is Japanese), else English. `--json` output is not
//! translated: it is for programs.

use std::sync::OnceLock;

use custody_core::Lang;
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

/// The English catalogue.
pub const EN: &str = include_str!("../i18n/en/custody.ftl");
/// The Japanese catalogue.
pub const JA: &str = include_str!("../i18n/ja/custody.ftl");

static CHOSEN: OnceLock<Option<Lang>> = OnceLock::new();
static CONFIGURED: OnceLock<Lang> = OnceLock::new();
static BUNDLES: OnceLock<(FluentBundle<FluentResource>, FluentBundle<FluentResource>)> =
    OnceLock::new();

/// Remembers `--lang` for the run.
pub fn choose(lang: Option<Lang>) {
    let _ = CHOSEN.set(lang);
}

/// The language `--lang` chose, if it did (documents keep their own default).
pub fn chosen() -> Option<Lang> {
    CHOSEN.get().copied().flatten()
}

/// Remembers the station's `language` setting (config.toml), once it is read.
pub fn configure(lang: Option<Lang>) {
    if let Some(lang) = lang {
        let _ = CONFIGURED.set(lang);
    }
}

tokio::task_local! {
    /// At the desk, the language of the page being answered: messages worded while
    /// answering it (core's errors) are in the reader's language, not the station's.
    pub static READER: Lang;
}

/// The language of messages: at the desk, the reader's; else `--lang`, else the
/// station's `language` setting (from the moment the data home is opened), else the
/// locale, else English.
pub fn lang() -> Lang {
    if let Ok(reader) = READER.try_with(|lang| *lang) {
        return reader;
    }
    chosen()
        .or_else(|| CONFIGURED.get().copied())
        .unwrap_or_else(from_locale)
}

fn from_locale() -> Lang {
    let locale = ["LC_ALL", "LC_MESSAGES", "LANG"]
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .find(|value| !value.is_empty())
        .unwrap_or_default();
    if locale.starts_with("ja") {
        Lang::Ja
    } else {
        Lang::En
    }
}

fn bundle(text: &str, tag: &str) -> FluentBundle<FluentResource> {
    let resource = FluentResource::try_new(text.to_owned())
        .unwrap_or_else(|(_, errors)| panic!("the {tag} catalogue does not parse: {errors:?}"));
    let id: unic_langid::LanguageIdentifier = tag.parse().expect("a valid language tag");
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    // Terminals show the isolation marks Fluent puts around values as garbage.
    bundle.set_use_isolating(false);
    bundle
        .add_resource(resource)
        .unwrap_or_else(|errors| panic!("the {tag} catalogue repeats a message: {errors:?}"));
    bundle
}

/// The message `id` in the language of messages, with `args` filled in.
pub fn text(id: &str, args: &[(&str, &str)]) -> String {
    text_in(lang(), id, args)
}

/// The message `id` in `lang`, with `args` filled in; the English one when `lang`
/// lacks it (a test keeps the catalogues equal), and the id itself when neither has it.
pub fn text_in(lang: Lang, id: &str, args: &[(&str, &str)]) -> String {
    let (en, ja) = BUNDLES.get_or_init(|| (bundle(EN, "en"), bundle(JA, "ja")));
    let first = match lang {
        Lang::Ja => ja,
        _ => en,
    };
    let mut fluent_args = FluentArgs::new();
    for (name, value) in args {
        // `count` chooses a plural form (`[one]`), so it goes in as a number; every
        // other value as the text it is (a serial of digits stays exact).
        let value = match value.parse::<u64>() {
            Ok(n) if *name == "count" => FluentValue::from(n),
            _ => FluentValue::from(*value),
        };
        fluent_args.set(*name, value);
    }
    for bundle in [first, en] {
        if let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) {
            let mut errors = Vec::new();
            return bundle
                .format_pattern(pattern, Some(&fluent_args), &mut errors)
                .into_owned();
        }
    }
    id.to_owned()
}

/// The message `id` in `lang` when that catalogue has it.
pub fn lookup(lang: Lang, id: &str) -> Option<String> {
    let (en, ja) = BUNDLES.get_or_init(|| (bundle(EN, "en"), bundle(JA, "ja")));
    let bundle = match lang {
        Lang::Ja => ja,
        _ => en,
    };
    let pattern = bundle.get_message(id)?.value()?;
    let mut errors = Vec::new();
    Some(
        bundle
            .format_pattern(pattern, None, &mut errors)
            .into_owned(),
    )
}

/// The language `--lang` names on this command line, read before it is parsed (so
/// that `--help` speaks it), else the locale's.
pub fn lang_of_command_line(args: &[std::ffi::OsString]) -> Lang {
    let mut words = args.iter().filter_map(|a| a.to_str());
    while let Some(word) = words.next() {
        let value = match word.strip_prefix("--lang=") {
            Some(value) => Some(value),
            None if word == "--lang" => words.next(),
            None => None,
        };
        match value {
            Some("ja") => return Lang::Ja,
            Some("en") => return Lang::En,
            _ => {}
        }
    }
    from_locale()
}

/// The command line's own help in `lang`: each command's line from `help-PATH`
/// (`help-custody`, `help-people-add`, …). A command the catalogue lacks keeps its
/// English line.
pub fn localize_help(command: clap::Command, lang: Lang) -> clap::Command {
    fn walk(mut command: clap::Command, path: &str, lang: Lang) -> clap::Command {
        // clap's `help` subcommand, at every level.
        // (Its subcommands copy the commands' own: `help-people-remove` for
        // `custody help people remove` and `custody people help remove` alike.)
        let about = if path == "help" || path.ends_with("-help") {
            "help-help".to_owned()
        } else {
            let own = path.strip_prefix("help-").unwrap_or(path);
            format!("help-{}", own.replace("-help-", "-"))
        };
        if let Some(text) = lookup(lang, &about) {
            command = command.about(text).long_about(None);
        }
        let ids: Vec<String> = command
            .get_arguments()
            .map(|a| a.get_id().as_str().to_owned())
            .collect();
        let (options, arguments) = (
            text_in(lang, "help-options", &[]),
            text_in(lang, "help-arguments", &[]),
        );
        for id in ids {
            command = command.mut_arg(&id, |arg| {
                let heading = if arg.is_positional() {
                    &arguments
                } else {
                    &options
                };
                arg.help_heading(heading.clone())
            });
            let Some(text) = lookup(lang, &option_id(path, &id)) else {
                continue;
            };
            command = command.mut_arg(&id, |arg| {
                // clap words the list of values and the default itself, in English:
                // they are written into the line instead.
                let mut text = text;
                let values: Vec<String> = arg
                    .get_possible_values()
                    .into_iter()
                    .filter(|value| !value.is_hide_set())
                    .map(|value| {
                        let name = value.get_name().to_owned();
                        match lookup(lang, &format!("{}-{name}", option_id(path, &id))) {
                            Some(words) => format!("{name}: {words}"),
                            None => name,
                        }
                    })
                    .collect();
                if !values.is_empty() && !arg.is_hide_possible_values_set() {
                    text = text_in(
                        lang,
                        "help-values",
                        &[
                            ("text", &text),
                            (
                                "values",
                                &values.join(text_in(lang, "help-values-separator", &[]).as_str()),
                            ),
                        ],
                    );
                }
                let defaults: Vec<String> = arg
                    .get_default_values()
                    .iter()
                    .map(|v| v.to_string_lossy().into_owned())
                    .collect();
                // A flag's default (false) says nothing.
                if !defaults.is_empty()
                    && !arg.is_hide_default_value_set()
                    && arg.get_action().takes_values()
                {
                    text = text_in(
                        lang,
                        "help-default",
                        &[("text", &text), ("default", &defaults.join(", "))],
                    );
                }
                if let Some(name) = arg.get_env().filter(|_| !arg.is_hide_env_set()) {
                    text = text_in(
                        lang,
                        "help-env",
                        &[("text", &text), ("name", &name.to_string_lossy())],
                    );
                }
                arg.help(text)
                    .long_help(None)
                    .hide_env(true)
                    .hide_possible_values(true)
                    .hide_default_value(true)
            });
        }
        // clap's own headings, in the same language.
        command = command
            .help_template(format!(
                "{{about-with-newline}}\n{}: {{usage}}\n\n{{all-args}}{{after-help}}",
                text_in(lang, "help-usage", &[])
            ))
            .subcommand_help_heading(text_in(lang, "help-commands", &[]));
        let names: Vec<String> = command
            .get_subcommands()
            .map(|s| s.get_name().to_owned())
            .collect();
        for name in names {
            let sub = if path == "custody" {
                name.clone()
            } else {
                format!("{path}-{name}")
            };
            command = command.mut_subcommand(&name, |s| walk(s, &sub, lang));
        }
        command
    }
    if lang == Lang::En {
        return command;
    }
    // Built first, so that clap's own --help, --version and `help` are there to word.
    let mut command = command;
    command.build();
    walk(command, "custody", lang)
}

/// A word of a closed set in the language of messages: `SET-WORD` in the catalogue
/// (`role-clerk`, `person-status-key-not-confirmed`), else the word as it is.
pub fn word(set: &str, value: &str) -> String {
    word_in(lang(), set, value)
}

/// [`word`] in `lang`.
pub fn word_in(lang: Lang, set: &str, value: &str) -> String {
    lookup(lang, &format!("{set}-{}", value.replace(' ', "-"))).unwrap_or_else(|| value.to_owned())
}

/// What someone was not allowed to do, as core words it (`carry out CO-1`, `wipe
/// media`), in the language of messages: `act-WORDS` in the catalogue, with a
/// trailing record id, class name or date as `$id`; else core's words.
pub fn action(words: &str) -> String {
    action_in(lang(), words)
}

fn action_in(lang: Lang, words: &str) -> String {
    let slug = |words: &str| words.replace(' ', "-");
    if let Some(text) = lookup(lang, &format!("act-{}", slug(words))) {
        return text;
    }
    // The two with two values.
    if let Some((class, start)) = words
        .strip_prefix("register items of class ")
        .and_then(|rest| rest.split_once(" from "))
    {
        return text_in(
            lang,
            "act-register-class-from",
            &[("class", class), ("start", start)],
        );
    }
    if let Some((id, date)) = words
        .strip_prefix("set the event date of ")
        .and_then(|rest| rest.split_once(" to "))
    {
        return text_in(lang, "act-set-event-date", &[("id", id), ("date", date)]);
    }
    if let Some((verb, id)) = words.rsplit_once(' ') {
        let with_id = format!("act-id-{}", slug(verb));
        if let Some(text) = lookup_with(lang, &with_id, &[("id", id)]) {
            return text;
        }
    }
    words.to_owned()
}

fn lookup_with(lang: Lang, id: &str, args: &[(&str, &str)]) -> Option<String> {
    lookup(lang, id).map(|_| text_in(lang, id, args))
}

/// Words that core makes in English from a fixed sentence and some values (what a
/// ledger check found wrong, why a head is unreadable), in the language of messages:
/// the English catalogue's `PREFIX…` messages are the patterns; the first whose
/// literal words match `text` whole gives the values, which fill the same message in
/// the other language. Text no pattern matches stays as core wrote it.
pub fn reword(prefix: &str, text: &str) -> String {
    reword_in(lang(), prefix, text)
}

/// [`reword`] in `lang`.
pub fn reword_in(lang: Lang, prefix: &str, text: &str) -> String {
    if lang == Lang::En {
        return text.to_owned();
    }
    for line in EN.lines() {
        let Some((id, pattern)) = line.split_once(" = ") else {
            continue;
        };
        if !id.starts_with(prefix) {
            continue;
        }
        let mut values = Vec::new();
        if matches(pattern, text, &mut values) {
            let args: Vec<(&str, &str)> = values.iter().map(|(n, v)| (*n, *v)).collect();
            if lookup(lang, id).is_some() {
                return text_in(lang, id, &args);
            }
        }
    }
    text.to_owned()
}

/// Whether `text` is `pattern` with its `{ $name }` places filled; the values go into
/// `values`. Each place takes the shortest text that lets the rest match.
fn matches<'p, 't>(pattern: &'p str, text: &'t str, values: &mut Vec<(&'p str, &'t str)>) -> bool {
    let Some(start) = pattern.find("{ $") else {
        return pattern == text;
    };
    let (literal, rest) = pattern.split_at(start);
    let Some(text) = text.strip_prefix(literal) else {
        return false;
    };
    let Some(end) = rest.find(" }") else {
        return false;
    };
    let name = &rest[3..end];
    let after = &rest[end + 2..];
    for (i, _) in text.char_indices().skip(1).chain([(text.len(), ' ')]) {
        let mut tried = values.clone();
        tried.push((name, &text[..i]));
        if matches(after, &text[i..], &mut tried) {
            *values = tried;
            return true;
        }
    }
    false
}

/// The catalogue id of an option's help line: `opt-PATH-ID` (`opt-wipe-yes`),
/// or `opt-ID` for the options every command takes (`opt-lang`).
fn option_id(path: &str, id: &str) -> String {
    if GLOBAL_OPTIONS.contains(&id) {
        format!("opt-{}", id.replace('_', "-"))
    } else {
        format!("opt-{path}-{}", id.replace('_', "-"))
    }
}

/// The options every command takes (clap's global arguments).
const GLOBAL_OPTIONS: &[&str] = &[
    "lang",
    "personal_key",
    "key_passphrase_file",
    "key_passphrase_fd",
    "help",
    "version",
];

/// A command-line mistake clap found, in `lang`, when clap's own English will not do:
/// what is wrong, clap's suggestion, the usage line and where to read more. `None`
/// for English, and for help and version, which clap prints already worded.
pub fn clap_error(error: &clap::Error, lang: Lang) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if lang == Lang::En {
        return None;
    }
    let get = |kind: ContextKind| match error.get(kind) {
        Some(ContextValue::String(s)) => s.clone(),
        Some(ContextValue::Strings(list)) => list.join(", "),
        Some(ContextValue::StyledStr(s)) => s.to_string(),
        Some(ContextValue::StyledStrs(list)) => list
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", "),
        Some(ContextValue::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let arg = get(ContextKind::InvalidArg);
    let value = get(ContextKind::InvalidValue);
    let what = match error.kind() {
        ErrorKind::DisplayHelp
        | ErrorKind::DisplayVersion
        | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => return None,
        ErrorKind::UnknownArgument => text_in(lang, "clap-unknown-argument", &[("arg", &arg)]),
        ErrorKind::InvalidSubcommand => text_in(
            lang,
            "clap-unknown-command",
            &[("command", &get(ContextKind::InvalidSubcommand))],
        ),
        ErrorKind::InvalidValue if value.is_empty() => {
            text_in(lang, "clap-value-missing", &[("arg", &arg)])
        }
        ErrorKind::InvalidValue => text_in(
            lang,
            "clap-invalid-value",
            &[
                ("arg", &arg),
                ("value", &value),
                ("valid", &get(ContextKind::ValidValue)),
            ],
        ),
        ErrorKind::ValueValidation => {
            // The parser's own reason (a number out of range, …) follows.
            let why = std::error::Error::source(error)
                .map(ToString::to_string)
                .unwrap_or_default();
            text_in(
                lang,
                "clap-value-unreadable",
                &[("arg", &arg), ("value", &value), ("why", &why)],
            )
        }
        ErrorKind::MissingRequiredArgument => {
            text_in(lang, "clap-missing-argument", &[("args", &arg)])
        }
        ErrorKind::MissingSubcommand => text_in(lang, "clap-missing-command", &[]),
        ErrorKind::ArgumentConflict => text_in(
            lang,
            "clap-conflict",
            &[("arg", &arg), ("prior", &get(ContextKind::PriorArg))],
        ),
        ErrorKind::TooManyValues | ErrorKind::TooFewValues | ErrorKind::WrongNumberOfValues => {
            text_in(lang, "clap-number-of-values", &[("arg", &arg)])
        }
        ErrorKind::NoEquals => text_in(lang, "clap-no-equals", &[("arg", &arg)]),
        _ => return None,
    };
    let mut out = format!("{}: {what}\n", text_in(lang, "error-prefix", &[]));
    let suggested = [ContextKind::SuggestedArg, ContextKind::SuggestedSubcommand]
        .into_iter()
        .map(get)
        .find(|s| !s.is_empty());
    if let Some(suggested) = suggested {
        out.push_str(&format!(
            "{}: {}\n",
            text_in(lang, "hint-prefix", &[]),
            text_in(lang, "clap-did-you-mean", &[("suggested", &suggested)])
        ));
    }
    let usage = get(ContextKind::Usage);
    if let Some(line) = usage.lines().find(|l| !l.trim().is_empty()) {
        let line = line.trim().strip_prefix("Usage:").unwrap_or(line).trim();
        out.push_str(&format!("\n{}: {line}\n", text_in(lang, "help-usage", &[])));
    }
    out.push_str(&text_in(lang, "clap-more", &[]));
    out.push('\n');
    Some(out)
}

/// `t!("id")` or `t!("id", name = value, …)`: the message in the language of
/// messages.
macro_rules! t {
    ($id:literal) => {
        $crate::i18n::text($id, &[])
    };
    ($id:literal, $($name:ident = $value:expr),+ $(,)?) => {
        $crate::i18n::text($id, &[$((stringify!($name), &$value.to_string())),+])
    };
}
pub(crate) use t;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// The message ids of a catalogue.
    fn ids(text: &str) -> BTreeSet<String> {
        let resource = FluentResource::try_new(text.to_owned()).expect("it parses");
        resource
            .entries()
            .filter_map(|entry| match entry {
                fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_owned()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn every_message_exists_in_both_languages() {
        let (en, ja) = (ids(EN), ids(JA));
        let only_en: Vec<_> = en.difference(&ja).collect();
        let only_ja: Vec<_> = ja.difference(&en).collect();
        assert!(
            only_en.is_empty() && only_ja.is_empty(),
            "only in English: {only_en:?}; only in Japanese: {only_ja:?}"
        );
        assert!(en.len() > 50, "{}", en.len());
    }

    #[test]
    fn every_message_the_code_asks_for_exists() {
        let en = ids(EN);
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut missing = Vec::new();
        // This file only shows how the macro is written.
        for file in walk(&dir).into_iter().filter(|f| !f.ends_with("i18n.rs")) {
            let source = std::fs::read_to_string(&file).unwrap();
            for (i, _) in source.match_indices("t!(") {
                // `t!(`, not `format!(` or `eprint!(`.
                if source[..i]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_')
                {
                    continue;
                }
                // The id may be on the next line, as rustfmt puts it.
                let Some(rest) = source[i + 3..].trim_start().strip_prefix('"') else {
                    continue;
                };
                let id = &rest[..rest.find('"').unwrap()];
                if !en.contains(id) {
                    missing.push(format!("{}: {id}", file.display()));
                }
            }
        }
        assert!(missing.is_empty(), "{missing:?}");
    }

    #[test]
    fn every_column_title_has_its_words() {
        let en = ids(EN);
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut missing = Vec::new();
        let mut seen = 0;
        // This file only names the pattern.
        for file in walk(&dir).into_iter().filter(|f| !f.ends_with("i18n.rs")) {
            let source = std::fs::read_to_string(&file).unwrap();
            for (i, _) in source.match_indices("Table::new(&[") {
                let rest = &source[i..];
                let list = &rest[..rest.find(']').unwrap()];
                for title in list.split('"').skip(1).step_by(2) {
                    seen += 1;
                    let id = format!(
                        "col-{}",
                        title.to_lowercase().replace(" / ", "-").replace(' ', "-")
                    );
                    if !en.contains(&id) {
                        missing.push(format!("{}: {id}", file.display()));
                    }
                }
            }
        }
        assert!(seen > 50, "{seen}");
        assert!(missing.is_empty(), "{missing:?}");
    }

    fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files.extend(walk(&path));
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
        files
    }

    #[test]
    fn the_english_help_lines_are_the_commands_own() {
        fn walk(command: &clap::Command, path: &str, en: &mut Vec<String>) {
            let id = format!("help-{path}");
            let own = command
                .get_about()
                .map(ToString::to_string)
                .unwrap_or_default();
            if lookup(Lang::En, &id).as_deref() != Some(own.as_str()) {
                en.push(format!("{id}: {own:?}"));
            }
            for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
                let path = if path == "custody" {
                    sub.get_name().to_owned()
                } else {
                    format!("{path}-{}", sub.get_name())
                };
                walk(sub, &path, en);
            }
        }
        let command = <crate::args::Cli as clap::CommandFactory>::command();
        let mut differ = Vec::new();
        for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
            walk(sub, sub.get_name(), &mut differ);
        }
        assert!(
            differ.is_empty(),
            "the catalogue's help lines differ: {differ:#?}"
        );
    }

    /// Every option's help line (and each of its values' lines) in the English
    /// catalogue is the option's own doc comment: the catalogue cannot drift from
    /// the code, and a new option without its lines fails here (the message lists
    /// them, ready to paste).
    #[test]
    fn the_english_option_lines_are_the_options_own() {
        fn walk(command: &clap::Command, path: &str, lines: &mut BTreeSet<String>) {
            for arg in command.get_arguments().filter(|a| !a.is_hide_set()) {
                let Some(help) = arg.get_help() else { continue };
                let id = option_id(path, arg.get_id().as_str());
                lines.insert(format!("{id} = {help}"));
                for value in arg.get_possible_values() {
                    if let Some(help) = value.get_help() {
                        lines.insert(format!("{id}-{} = {help}", value.get_name()));
                    }
                }
            }
            for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
                if sub.get_name() == "help" {
                    continue;
                }
                let path = if path == "custody" {
                    sub.get_name().to_owned()
                } else {
                    format!("{path}-{}", sub.get_name())
                };
                walk(sub, &path, lines);
            }
        }
        let mut command = <crate::args::Cli as clap::CommandFactory>::command();
        command.build();
        let mut lines = BTreeSet::new();
        walk(&command, "custody", &mut lines);
        let missing: Vec<&String> = lines
            .iter()
            .filter(|line| {
                let (id, text) = line.split_once(" = ").unwrap();
                lookup(Lang::En, id).as_deref() != Some(text)
            })
            .collect();
        assert!(
            missing.is_empty(),
            "the catalogue lacks or words differently {} option lines:\n{}",
            missing.len(),
            missing
                .iter()
                .map(|l| l.as_str())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }

    /// Under Japanese, every command's line and every option's line (and each
    /// value's) is Japanese: a new option without its Japanese line fails here.
    #[test]
    fn every_help_line_has_its_japanese() {
        fn japanese(text: &str) -> bool {
            text.chars().any(|c| {
                ('\u{3040}'..='\u{30ff}').contains(&c) || ('\u{4e00}'..='\u{9fff}').contains(&c)
            })
        }
        fn walk(command: &clap::Command, path: &str, english: &mut Vec<String>) {
            let about = command
                .get_about()
                .map(ToString::to_string)
                .unwrap_or_default();
            if !japanese(&about) {
                english.push(format!("{path}: {about}"));
            }
            for arg in command.get_arguments().filter(|a| !a.is_hide_set()) {
                let help = arg.get_help().map(ToString::to_string).unwrap_or_default();
                if !japanese(&help) {
                    english.push(format!("{path} {}: {help}", arg.get_id()));
                }
            }
            for sub in command.get_subcommands().filter(|s| !s.is_hide_set()) {
                walk(sub, &format!("{path} {}", sub.get_name()), english);
            }
        }
        let command = localize_help(
            <crate::args::Cli as clap::CommandFactory>::command(),
            Lang::Ja,
        );
        let mut english = Vec::new();
        walk(&command, "custody", &mut english);
        assert!(english.is_empty(), "still English:\n{}", english.join("\n"));
    }

    /// Every kind of ledger entry has its words, so `log` reads in Japanese whole.
    #[test]
    fn every_entry_kind_has_its_words() {
        let missing: Vec<&str> = custody_core::ledger::ENTRY_KINDS
            .iter()
            .copied()
            .filter(|kind| lookup(Lang::Ja, &format!("entry-kind-{kind}")).is_none())
            .collect();
        assert!(missing.is_empty(), "{missing:?}");
    }

    /// What a ledger check found, as core says it, reads in Japanese with its values;
    /// text no pattern matches stays as it is, and English is never touched.
    #[test]
    fn ledger_breaches_are_reworded() {
        for (core, japanese) in [
            (
                "this station saw 12 entries, the last with hash ab12, but the ledger now has 9: entries were removed, or an older copy was restored",
                "この端末は 12 件の記録（最後のハッシュ ab12）を見ていますが、台帳には今 9 件しかありません。記録が削除されたか、古い複製が戻されています",
            ),
            (
                "the signature by sato's key does not verify (forged, or copied from another entry)",
                "sato の鍵による署名が検証できません（偽造、または別の記録からの複製）",
            ),
            (
                "entries 7..9 are not covered by a signed checkpoint (appended without the station key)",
                "記録 7〜9 は署名つきチェックポイントに含まれていません（端末の鍵なしで追加されました）",
            ),
            (
                "a signed checkpoint covers 5 entries but the ledger has 3: entries were removed from the end",
                "署名つきチェックポイントは 5 件を含みますが、台帳には 3 件しかありません。末尾の記録が削除されています",
            ),
            ("something nobody foresaw", "something nobody foresaw"),
        ] {
            assert_eq!(reword_in(Lang::Ja, "breach-", core), japanese);
            assert_eq!(reword_in(Lang::En, "breach-", core), core);
        }
        assert_eq!(
            reword_in(Lang::Ja, "bad-head-", "missing head line"),
            "head の行がありません"
        );
    }

    /// What core says someone was not allowed to do reads in Japanese, with its id,
    /// class or date; words the catalogue does not know stay as core wrote them.
    #[test]
    fn refused_actions_are_worded() {
        for (core, japanese) in [
            ("carry out CO-1", "CO-1 の持出し"),
            ("wipe media", "媒体の消去"),
            ("approve", "承認"),
            ("dispose of medium MD-2", "媒体 MD-2 の廃棄"),
            (
                "register items of class my-number from 2020-04-01",
                "保存区分 my-number の項目を 2020-04-01 起算で登録すること",
            ),
            (
                "set the event date of RT-3 to 2026-01-05",
                "RT-3 の出来事の日付を 2026-01-05 とすること",
            ),
            ("juggle CO-1", "juggle CO-1"),
        ] {
            assert_eq!(action_in(Lang::Ja, core), japanese);
        }
        assert_eq!(action_in(Lang::En, "carry out CO-1"), "carry out CO-1");
        assert_eq!(
            action_in(Lang::En, "register items of class x from 2020-04-01"),
            "register items of class x from 2020-04-01"
        );
    }

    #[test]
    fn values_fill_in_and_japanese_falls_back_to_nothing_missing() {
        assert_eq!(
            text_in(
                Lang::En,
                "no-such-record",
                &[("what", "carry-out"), ("id", "CO-9")]
            ),
            "there is no carry-out CO-9"
        );
        assert!(
            text_in(
                Lang::Ja,
                "no-such-record",
                &[("what", "持出し"), ("id", "CO-9")]
            )
            .contains("CO-9")
        );
    }
}
