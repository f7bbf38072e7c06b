//! Property: any small tree of files and folders (Japanese names, empty files, empty
//! folders) comes back identical after `seal::send` and `seal::open`, and the report
//! lists every file with its size and hash.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use age::secrecy::ExposeSecret;
use custody_core::send::seal::{self, Mode, NoProgress, OpenInput, SendInput};
use proptest::prelude::*;
use sha2::Digest;

#[derive(Debug, Clone)]
enum Node {
    File(Vec<u8>),
    Dir,
}

fn entries() -> impl Strategy<Value = Vec<(Vec<String>, Node)>> {
    let name = "[a-zA-Z0-9_ 日本語報告書フォルダ-]{1,10}";
    let path = prop::collection::vec(name, 1..4);
    let node = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..3000).prop_map(Node::File),
        Just(Node::File(Vec::new())),
        Just(Node::Dir),
    ];
    prop::collection::vec((path, node), 1..12)
}

fn build(root: &Path, entries: &[(Vec<String>, Node)]) {
    std::fs::create_dir_all(root).unwrap();
    for (parts, node) in entries {
        let path: PathBuf = parts.iter().fold(root.to_path_buf(), |p, n| p.join(n));
        if path.exists()
            || path
                .parent()
                .is_some_and(|p| std::fs::create_dir_all(p).is_err())
        {
            continue; // clashes with an earlier entry
        }
        match node {
            Node::File(data) => std::fs::write(&path, data).unwrap(),
            Node::Dir => std::fs::create_dir(&path).unwrap(),
        }
    }
}

fn snapshot(dir: &Path) -> BTreeSet<(PathBuf, Option<Vec<u8>>)> {
    walkdir::WalkDir::new(dir)
        .min_depth(1)
        .into_iter()
        .map(|e| {
            let e = e.unwrap();
            let rel = e.path().strip_prefix(dir).unwrap().to_path_buf();
            (
                rel,
                e.file_type()
                    .is_file()
                    .then(|| std::fs::read(e.path()).unwrap()),
            )
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn send_then_open_gives_back_the_same_tree(tree in entries()) {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("入力");
        build(&root, &tree);
        let identity = age::x25519::Identity::generate();
        let key = tmp.path().join("key.txt");
        std::fs::write(&key, identity.to_string().expose_secret()).unwrap();
        let enc = tmp.path().join("out.tar.age");
        let sent = seal::send(
            SendInput {
                paths: vec![root.clone()],
                output: Some(enc.clone()),
                mode: Mode::Recipients(vec![identity.to_public().to_string().parse().unwrap()]),
            },
            &NoProgress,
        )
        .unwrap();
        let out = tmp.path().join("受信");
        let opened = seal::open(
            OpenInput {
                identity_passphrase: None,
                file: enc,
                out_dir: out.clone(),
                identity_files: vec![key],
                passphrase: None,
                force: false,
                max_work_factor: custody_core::send::seal::DEFAULT_MAX_WORK_FACTOR,
            },
            &NoProgress,
        )
        .unwrap();
        prop_assert!(opened.manifest_checked);
        prop_assert_eq!(snapshot(&out.join("入力")), snapshot(&root));
        prop_assert_eq!(&opened.files, &sent.files);
        for file in &sent.files {
            let data = std::fs::read(root.join(file.path.strip_prefix("入力/").unwrap())).unwrap();
            prop_assert_eq!(file.size, data.len() as u64);
            prop_assert_eq!(&file.sha256, &hex::encode(sha2::Sha256::digest(&data)));
        }
    }
}
