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

/// The language of messages: `--lang`, else the locale, else English.
pub fn lang() -> Lang {
    chosen().unwrap_or_else(from_locale)
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
        fluent_args.set(*name, FluentValue::from(*value));
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
        if let Some(text) = lookup(lang, &format!("help-{path}")) {
            command = command.about(text).long_about(None);
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
    walk(command, "custody", lang)
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
            for (i, _) in source.match_indices("t!(\"") {
                // `t!(`, not `format!(` or `eprint!(`.
                if source[..i]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_')
                {
                    continue;
                }
                let rest = &source[i + 4..];
                let id = &rest[..rest.find('"').unwrap()];
                if !en.contains(id) {
                    missing.push(format!("{}: {id}", file.display()));
                }
            }
        }
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
