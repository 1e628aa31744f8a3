//! The Source step's small file browser: one folder's entries (folders first, capped), read off
//! the UI task by [`list_dir`], filtered by the name typed in the path field.

use std::path::{Path, PathBuf};

/// At most this many entries are kept from one folder (a huge folder says "… N more").
pub const MAX_ENTRIES: usize = 2000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub dir: bool,
}

/// One folder as read: the kept entries (folders first, then by name) and how many were not kept.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Listing {
    pub entries: Vec<Entry>,
    pub more: usize,
}

/// Reads `dir` (blocking: the shell calls it off the UI task). Names that are not UTF-8
/// cannot be typed into the path field and are left out. Err: one sentence.
pub fn list_dir(dir: &Path) -> Result<Listing, String> {
    let rd = std::fs::read_dir(dir).map_err(|e| {
        format!(
            "cannot list {}: {e}",
            crate::text::sanitize(&dir.display().to_string())
        )
    })?;
    let mut out = Listing::default();
    for e in rd.filter_map(Result::ok) {
        if out.entries.len() >= MAX_ENTRIES {
            out.more += 1;
            continue;
        }
        let Ok(name) = e.file_name().into_string() else {
            continue;
        };
        // A symlink to a folder browses like one.
        let dir = e.file_type().is_ok_and(|t| t.is_dir())
            || (e.file_type().is_ok_and(|t| t.is_symlink()) && e.path().is_dir());
        out.entries.push(Entry { name, dir });
    }
    out.entries
        .sort_by(|a, b| b.dir.cmp(&a.dir).then_with(|| a.name.cmp(&b.name)));
    Ok(out)
}

/// The path field split at its last '/': the folder part (kept as typed, "" for the current
/// folder) and the name being typed.
pub fn split(path: &str) -> (&str, &str) {
    match path.rfind('/') {
        Some(i) => (&path[..=i], &path[i + 1..]),
        None => ("", path),
    }
}

/// The folder part one level up, as the user would type it ("certs/" → "", "" → "../").
pub fn parent(dir_part: &str) -> String {
    let trimmed = dir_part.trim_end_matches('/');
    if trimmed.is_empty() {
        return if dir_part.starts_with('/') {
            "/".into()
        } else {
            "../".into()
        };
    }
    if trimmed == "." {
        return "../".into();
    }
    if trimmed == ".." || trimmed.ends_with("/..") {
        return format!("{trimmed}/../");
    }
    match trimmed.rfind('/') {
        Some(i) => trimmed[..=i].to_string(),
        None => String::new(),
    }
}

/// The browser's state: which folder is shown, what was read, the selected row.
#[derive(Debug, Clone, Default)]
pub struct Browser {
    /// The folder listed or being listed.
    pub dir: Option<PathBuf>,
    pub listing: Option<Result<Listing, String>>,
    /// A list job for `dir` is out.
    pub pending: bool,
    /// Index into the filtered entries.
    pub selected: usize,
    /// Whether the list (not the path field) has the keys.
    pub focused: bool,
    /// Tab was pressed before the listing arrived: complete when it does.
    pub complete_when_listed: bool,
}

impl Browser {
    /// The entries whose name starts with `base`; hidden ones only when `base` starts with '.'.
    pub fn visible(&self, base: &str) -> Vec<&Entry> {
        match &self.listing {
            Some(Ok(l)) => l
                .entries
                .iter()
                .filter(|e| e.name.starts_with(base))
                .filter(|e| !e.name.starts_with('.') || base.starts_with('.'))
                .collect(),
            _ => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parent_of_a_typed_folder_is_typed_too() {
        assert_eq!(parent(""), "../");
        assert_eq!(parent("certs/"), "");
        assert_eq!(parent("a/b/"), "a/");
        assert_eq!(parent("../"), "../../");
        assert_eq!(parent("/etc/"), "/");
        assert_eq!(parent("/"), "/");
        assert_eq!(parent("./"), "../");
    }

    #[test]
    fn a_folder_lists_folders_first_and_caps_a_huge_one() {
        let d = tempfile::tempdir().unwrap();
        for i in 0..(MAX_ENTRIES + 5) {
            std::fs::write(d.path().join(format!("f{i:05}.pem")), "").unwrap();
        }
        std::fs::create_dir(d.path().join("zz.d")).unwrap();
        let l = list_dir(d.path()).unwrap();
        assert_eq!(l.entries.len() + l.more, MAX_ENTRIES + 6);
        assert_eq!(l.entries.len(), MAX_ENTRIES);
        assert_eq!(l.more, 6);
        let small = tempfile::tempdir().unwrap();
        std::fs::write(small.path().join("b.pem"), "").unwrap();
        std::fs::write(small.path().join(".hidden"), "").unwrap();
        std::fs::create_dir(small.path().join("z.d")).unwrap();
        let l = list_dir(small.path()).unwrap();
        let names: Vec<_> = l.entries.iter().map(|e| (e.name.as_str(), e.dir)).collect();
        assert_eq!(names, [("z.d", true), (".hidden", false), ("b.pem", false)]);
        let b = Browser {
            listing: Some(Ok(l)),
            ..Browser::default()
        };
        let shown: Vec<_> = b.visible("").iter().map(|e| e.name.clone()).collect();
        assert_eq!(shown, ["z.d", "b.pem"]);
        let shown: Vec<_> = b.visible(".").iter().map(|e| e.name.clone()).collect();
        assert_eq!(shown, [".hidden"]);
    }

    #[test]
    fn an_unreadable_folder_is_one_sentence() {
        let d = tempfile::tempdir().unwrap();
        let missing = d.path().join("gone");
        let e = list_dir(&missing).unwrap_err();
        assert!(e.starts_with("cannot list "), "{e}");
        assert!(e.contains("No such file or directory"), "{e}");
    }
}
