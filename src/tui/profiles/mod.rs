//! The Profiles tab: every saved profile with its last verdict, filter, the add/edit form with
//! inline validation, duplicate, rename, delete (naming its keyring entries) and run-all.
//! State and transitions are pure (`command`, `text_key`, `on_event`); file and keyring work
//! is returned as [`StoreJob`]s that the shell runs with [`carry_out`] off the UI task.

mod strings;
mod view;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod app_tests;

use std::cell::Cell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::diagnose::Stage;
use crate::profile::{
    self, FORM_FIELDS, FormError, FormField, KeyringOnDemand, Profile, ProfileForm, ProfileStore,
};
use crate::secrets::Kind;

use super::keymap::{Key, KeyInput};
use super::look::Look;
use strings as s;

/// Every action of the tab and its popups (bound to keys by the shell's keymap).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProfilesCommand {
    Up,
    Down,
    PageUp,
    PageDown,
    Home,
    End,
    Run,
    RunAll,
    Add,
    Edit,
    Duplicate,
    Rename,
    Delete,
    Filter,
    FilterDone,
    FilterClear,
    FilterUp,
    FilterDown,
    FormNext,
    FormPrev,
    FormSave,
    FormCancel,
    DeleteConfirm,
    DeleteCancel,
    RenameConfirm,
    RenameCancel,
    DiscardConfirm,
    DiscardCancel,
}

impl ProfilesCommand {
    pub fn id(self) -> &'static str {
        use ProfilesCommand as C;
        match self {
            C::Up => "profiles.up",
            C::Down => "profiles.down",
            C::PageUp => "profiles.page_up",
            C::PageDown => "profiles.page_down",
            C::Home => "profiles.first",
            C::End => "profiles.last",
            C::Run => "profiles.run",
            C::RunAll => "profiles.run_all",
            C::Add => "profiles.add",
            C::Edit => "profiles.edit",
            C::Duplicate => "profiles.duplicate",
            C::Rename => "profiles.rename",
            C::Delete => "profiles.delete",
            C::Filter => "profiles.filter",
            C::FilterDone => "profiles.filter_done",
            C::FilterClear => "profiles.filter_clear",
            C::FilterUp => "profiles.filter_up",
            C::FilterDown => "profiles.filter_down",
            C::FormNext => "profiles.form_next",
            C::FormPrev => "profiles.form_previous",
            C::FormSave => "profiles.form_save",
            C::FormCancel => "profiles.form_cancel",
            C::DeleteConfirm => "profiles.delete_confirm",
            C::DeleteCancel => "profiles.delete_cancel",
            C::RenameConfirm => "profiles.rename_confirm",
            C::RenameCancel => "profiles.rename_cancel",
            C::DiscardConfirm => "profiles.discard_confirm",
            C::DiscardCancel => "profiles.discard_cancel",
        }
    }
}

/// Where the user is in the tab (for the keymap and `?`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProfilesContext {
    List,
    Filter,
    Form,
    ConfirmDelete,
    Rename,
    /// Esc in a form with changed fields: "discard changes?".
    ConfirmDiscard,
}

type DefaultBinding = (
    ProfilesContext,
    ProfilesCommand,
    &'static [&'static str],
    &'static str,
    &'static str,
);

/// (context, command, default key specs, footer hint, help line).
pub fn default_bindings() -> Vec<DefaultBinding> {
    use ProfilesCommand as C;
    use ProfilesContext as X;
    vec![
        (
            X::List,
            C::Up,
            &["Up", "k"],
            "",
            "select the previous profile",
        ),
        (
            X::List,
            C::Down,
            &["Down", "j"],
            "",
            "select the next profile",
        ),
        (X::List, C::PageUp, &["PageUp"], "", "one page up"),
        (X::List, C::PageDown, &["PageDown"], "", "one page down"),
        (X::List, C::Home, &["Home", "g"], "", "first profile"),
        (X::List, C::End, &["End", "G"], "", "last profile"),
        (
            X::List,
            C::Run,
            &["Enter"],
            "run",
            "diagnose the selected profile (opens Diagnose)",
        ),
        (
            X::List,
            C::RunAll,
            &["a"],
            "run all",
            "diagnose every profile at once",
        ),
        (
            X::List,
            C::Filter,
            &["/"],
            "filter",
            "filter the list as you type",
        ),
        (X::List, C::Add, &["n"], "new", "add a profile in the form"),
        (
            X::List,
            C::Edit,
            &["e"],
            "edit",
            "edit the selected profile",
        ),
        (
            X::List,
            C::Duplicate,
            &["d"],
            "duplicate",
            "copy the selected profile (and its keyring entries)",
        ),
        (
            X::List,
            C::Rename,
            &["R", "F2"],
            "rename",
            "rename the selected profile",
        ),
        (
            X::List,
            C::Delete,
            &["x", "Delete"],
            "delete",
            "delete the selected profile (asks first)",
        ),
        (
            X::Filter,
            C::FilterDone,
            &["Enter"],
            "keep filter",
            "keep the filter and go back to the list",
        ),
        (
            X::Filter,
            C::FilterClear,
            &["Esc"],
            "clear",
            "clear the filter",
        ),
        (
            X::Filter,
            C::FilterUp,
            &["Up"],
            "",
            "select the previous match",
        ),
        (
            X::Filter,
            C::FilterDown,
            &["Down"],
            "",
            "select the next match",
        ),
        (
            X::Form,
            C::FormNext,
            &["Tab", "Down"],
            "next field",
            "go to the next field",
        ),
        (
            X::Form,
            C::FormPrev,
            &["BackTab", "Up"],
            "previous",
            "go to the previous field",
        ),
        (
            X::Form,
            C::FormSave,
            &["Enter", "Ctrl-s"],
            "save",
            "check every field and save",
        ),
        (
            X::Form,
            C::FormCancel,
            &["Esc"],
            "cancel",
            "close the form without saving",
        ),
        (
            X::ConfirmDelete,
            C::DeleteConfirm,
            &["Enter"],
            "delete",
            "delete the profile and its keyring entries",
        ),
        (
            X::ConfirmDelete,
            C::DeleteCancel,
            &["Esc"],
            "keep",
            "keep the profile",
        ),
        (
            X::Rename,
            C::RenameConfirm,
            &["Enter"],
            "rename",
            "rename the profile",
        ),
        (
            X::Rename,
            C::RenameCancel,
            &["Esc"],
            "cancel",
            "keep the old name",
        ),
        (
            X::ConfirmDiscard,
            C::DiscardConfirm,
            &["y", "Enter"],
            "discard",
            "close the form and lose the changes",
        ),
        (
            X::ConfirmDiscard,
            C::DiscardCancel,
            &["Esc", "n"],
            "keep editing",
            "go back to the form, changes kept",
        ),
    ]
}

/// A profile that lives only in memory (the demo's lab scenarios).
#[derive(Debug, Clone)]
pub struct MemoryProfile {
    pub name: String,
    /// Heading it is listed under (the demo: the stage that fails).
    pub group: String,
    /// One line saying what it shows.
    pub title: String,
    pub url: String,
}

/// What a load read: the usable profiles, the ones that cannot be used with their error,
/// and the file's fingerprint (to tell later whether another program changed it).
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    pub profiles: Vec<Profile>,
    pub broken: Vec<(String, String)>,
    pub fingerprint: Option<[u8; 32]>,
}

impl Loaded {
    fn from_store(store: &ProfileStore) -> Loaded {
        Loaded {
            profiles: store.list().into_iter().cloned().collect(),
            broken: store
                .broken()
                .iter()
                .map(|b| (b.name.clone(), b.error.to_string()))
                .collect(),
            fingerprint: store.fingerprint(),
        }
    }
}

/// What the form was opened for.
#[derive(Debug, Clone, PartialEq)]
pub enum FormMode {
    New,
    Edit { name: String },
    Duplicate { from: String },
}

/// File and keyring work, carried out by [`carry_out`] off the UI task.
#[derive(Debug, Clone)]
pub enum StoreJob {
    Load {
        path: PathBuf,
    },
    /// A file field's check (it reads the file).
    CheckField {
        field: FormField,
        value: String,
    },
    Save {
        path: PathBuf,
        form: Box<ProfileForm>,
        mode: FormMode,
        /// The fingerprint of the file when the tab last read it.
        seen: Option<[u8; 32]>,
    },
    Delete {
        path: PathBuf,
        name: String,
    },
    Rename {
        path: PathBuf,
        old: String,
        new: String,
    },
}

/// Why a store job did not do what it was asked.
#[derive(Debug, Clone, PartialEq)]
pub enum StoreFailure {
    /// The form has problems: shown beside their fields.
    Form(Vec<FormError>),
    /// One sentence for the status line.
    Message(String),
}

/// The answer to a Save, Delete or Rename job.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub result: Result<String, StoreFailure>,
    /// The file as it is now (after the change, or as another program left it).
    pub reloaded: Option<Loaded>,
    /// The profile to select afterwards.
    pub select: Option<String>,
}

#[derive(Debug, Clone)]
pub enum ProfilesEvent {
    Loaded(Result<Loaded, String>),
    FieldChecked {
        field: FormField,
        value: String,
        error: Option<String>,
    },
    Stored(Stored),
    Row {
        name: String,
        status: RowStatus,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum RowStatus {
    Running,
    Done {
        ok: bool,
        stage: Option<Stage>,
        cause: Option<String>,
        millis: u64,
    },
    CannotRun(String),
}

#[derive(Debug, Clone)]
pub enum ProfilesEffect {
    Redraw,
    Store(StoreJob),
    Run { name: String },
    RunAll { names: Vec<String> },
    Status(String),
}

/// One line of the list.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    name: String,
    /// Heading (demo: the stage); `None` for saved profiles.
    group: Option<String>,
    url: String,
    /// Saved profiles only (for edit, duplicate and the keyring entries).
    profile: Option<Profile>,
    /// Why the profile cannot be used, when it cannot.
    load_error: Option<String>,
    status: Option<RowStatus>,
}

/// The form popup.
#[derive(Debug, Clone, PartialEq)]
struct FormState {
    form: ProfileForm,
    mode: FormMode,
    focus: usize,
    /// Cursor in the focused field, in characters.
    cursor: usize,
    /// Inline errors by field; `None` key: the form as a whole.
    errors: HashMap<Option<FormField>, String>,
    /// File fields whose check is on its way.
    checking: Vec<FormField>,
    saving: bool,
    /// Esc was pressed with changed fields: the "discard changes?" question is open.
    asking_discard: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum Popup {
    Form(Box<FormState>),
    ConfirmDelete {
        name: String,
        accounts: Vec<String>,
        broken: bool,
    },
    Rename {
        old: String,
        text: String,
        cursor: usize,
        error: Option<String>,
    },
}

/// A run of every profile: when it started, and how long it took once every row is done.
#[derive(Debug, Clone, PartialEq)]
struct RunAll {
    names: Vec<String>,
    started: Instant,
    millis: Option<u64>,
}

#[derive(Debug)]
pub struct ProfilesTab {
    path: Option<PathBuf>,
    loading: bool,
    load_error: Option<String>,
    rows: Vec<Row>,
    /// Index into [`ProfilesTab::visible`].
    selected: usize,
    filter: String,
    filtering: bool,
    popup: Option<Popup>,
    run_all: Option<RunAll>,
    fingerprint: Option<[u8; 32]>,
    /// A Save/Delete/Rename is being written.
    busy: bool,
    /// Rows drawn last time: (screen row, index into visible), and the first shown.
    drawn_rows: Cell<(u16, u16, u16)>,
    offset: Cell<usize>,
    page: Cell<usize>,
    /// Frame of the shared spinner on running rows (turned by the shell's tick).
    spinner: usize,
}

impl ProfilesTab {
    pub fn new(path: PathBuf) -> Self {
        ProfilesTab {
            path: Some(path),
            loading: true,
            load_error: None,
            rows: Vec::new(),
            selected: 0,
            filter: String::new(),
            filtering: false,
            popup: None,
            run_all: None,
            fingerprint: None,
            busy: false,
            drawn_rows: Cell::new((0, 0, 0)),
            offset: Cell::new(0),
            page: Cell::new(10),
            spinner: 0,
        }
    }

    /// Profiles not backed by a file (the demo): listed by group, editing refused.
    pub fn in_memory(profiles: Vec<MemoryProfile>) -> Self {
        let mut rows: Vec<Row> = profiles
            .into_iter()
            .map(|p| Row {
                name: p.name,
                group: Some(p.group),
                url: if p.title.is_empty() {
                    crate::report::redact::url(&p.url)
                } else {
                    p.title
                },
                profile: None,
                load_error: None,
                status: None,
            })
            .collect();
        // Groups in the order they first come (the demo gives them in stage order), and the
        // given order inside a group (the sort is stable).
        let mut order: Vec<Option<String>> = Vec::new();
        for r in &rows {
            if !order.contains(&r.group) {
                order.push(r.group.clone());
            }
        }
        rows.sort_by_key(|r| order.iter().position(|g| *g == r.group));
        ProfilesTab {
            path: None,
            loading: false,
            rows,
            ..ProfilesTab::new(PathBuf::new())
        }
    }

    /// The effects to carry out when the tab opens (the first load).
    pub fn start(&mut self) -> Vec<ProfilesEffect> {
        match &self.path {
            Some(path) => {
                self.loading = true;
                vec![ProfilesEffect::Store(StoreJob::Load { path: path.clone() })]
            }
            None => Vec::new(),
        }
    }

    /// The profiles file (`None` for in-memory demo profiles).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Whether something runs or is being written (the shell keeps its spinner turning).
    pub fn animating(&self) -> bool {
        self.busy
            || self
                .rows
                .iter()
                .any(|r| matches!(r.status, Some(RowStatus::Running)))
    }

    /// Whether a row shows a running diagnosis (its spinner turns).
    pub fn rows_running(&self) -> bool {
        self.rows
            .iter()
            .any(|r| matches!(r.status, Some(RowStatus::Running)))
    }

    /// One spinner frame on.
    pub fn tick(&mut self) {
        self.spinner = self.spinner.wrapping_add(1);
    }

    pub fn context(&self) -> ProfilesContext {
        match &self.popup {
            Some(Popup::Form(f)) if f.asking_discard => ProfilesContext::ConfirmDiscard,
            Some(Popup::Form(_)) => ProfilesContext::Form,
            Some(Popup::ConfirmDelete { .. }) => ProfilesContext::ConfirmDelete,
            Some(Popup::Rename { .. }) => ProfilesContext::Rename,
            None if self.filtering => ProfilesContext::Filter,
            None => ProfilesContext::List,
        }
    }

    pub fn takes_text(&self) -> bool {
        matches!(
            self.context(),
            ProfilesContext::Filter | ProfilesContext::Form | ProfilesContext::Rename
        )
    }

    /// Indices into `rows` that match the filter, in display order.
    fn visible(&self) -> Vec<usize> {
        let needle = self.filter.to_lowercase();
        self.rows
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                needle.is_empty()
                    || r.name.to_lowercase().contains(&needle)
                    || r.url.to_lowercase().contains(&needle)
                    || r.group
                        .as_deref()
                        .is_some_and(|g| g.to_lowercase().contains(&needle))
            })
            .map(|(i, _)| i)
            .collect()
    }

    fn selected_row(&self) -> Option<&Row> {
        self.visible().get(self.selected).map(|i| &self.rows[*i])
    }

    fn clamp(&mut self) {
        let n = self.visible().len();
        self.selected = self.selected.min(n.saturating_sub(1));
    }

    fn select_name(&mut self, name: &str) {
        if let Some(i) = self
            .visible()
            .iter()
            .position(|i| self.rows[*i].name == name)
        {
            self.selected = i;
        }
    }

    fn move_by(&mut self, delta: i64) {
        let n = self.visible().len() as i64;
        self.selected = (self.selected as i64 + delta).clamp(0, (n - 1).max(0)) as usize;
    }

    fn refuse_in_demo(&self) -> Option<Vec<ProfilesEffect>> {
        if self.path.is_none() {
            return Some(vec![ProfilesEffect::Status(s::DEMO_READ_ONLY.into())]);
        }
        if self.busy {
            return Some(vec![ProfilesEffect::Status(s::BUSY.into())]);
        }
        None
    }

    pub fn command(&mut self, cmd: ProfilesCommand) -> Vec<ProfilesEffect> {
        use ProfilesCommand as C;
        let redraw = vec![ProfilesEffect::Redraw];
        match cmd {
            C::Up | C::FormPrev if self.context() == ProfilesContext::Form => self.focus_by(-1),
            C::Down | C::FormNext if self.context() == ProfilesContext::Form => self.focus_by(1),
            C::Up | C::FilterUp => {
                self.move_by(-1);
                redraw
            }
            C::Down | C::FilterDown => {
                self.move_by(1);
                redraw
            }
            C::PageUp => {
                self.move_by(-(self.page.get().max(1) as i64));
                redraw
            }
            C::PageDown => {
                self.move_by(self.page.get().max(1) as i64);
                redraw
            }
            C::Home => {
                self.selected = 0;
                redraw
            }
            C::End => {
                self.move_by(i64::MAX / 2);
                redraw
            }
            C::Run => self.run_selected(),
            C::RunAll => self.run_everything(),
            C::Filter => {
                self.filtering = true;
                redraw
            }
            C::FilterDone => {
                self.filtering = false;
                redraw
            }
            C::FilterClear => {
                let name = self.selected_name().map(str::to_string);
                self.filtering = false;
                self.filter.clear();
                if let Some(n) = name {
                    self.select_name(&n);
                }
                redraw
            }
            C::Add => {
                if let Some(refused) = self.refuse_in_demo() {
                    return refused;
                }
                self.open(ProfileForm::new_profile(), FormMode::New);
                redraw
            }
            C::Edit => {
                if let Some(name) = self.selected_row().map(|r| r.name.clone()) {
                    self.open_form(&name);
                    if self.popup.is_none() {
                        return self.cannot_edit(&name);
                    }
                    return redraw;
                }
                Vec::new()
            }
            C::Duplicate => {
                if let Some(refused) = self.refuse_in_demo() {
                    return refused;
                }
                let Some(row) = self.selected_row().cloned() else {
                    return Vec::new();
                };
                let Some(p) = row.profile else {
                    return self.cannot_edit(&row.name);
                };
                let mut form = ProfileForm::edit(&p);
                form.set(FormField::Name, self.free_name(&format!("{}-copy", p.name)));
                self.open(form, FormMode::Duplicate { from: p.name });
                redraw
            }
            C::Rename => {
                if let Some(refused) = self.refuse_in_demo() {
                    return refused;
                }
                let Some(row) = self.selected_row().cloned() else {
                    return Vec::new();
                };
                if row.profile.is_none() {
                    return self.cannot_edit(&row.name);
                }
                let cursor = row.name.chars().count();
                self.popup = Some(Popup::Rename {
                    old: row.name.clone(),
                    text: row.name,
                    cursor,
                    error: None,
                });
                redraw
            }
            C::Delete => {
                if let Some(refused) = self.refuse_in_demo() {
                    return refused;
                }
                let Some(row) = self.selected_row().cloned() else {
                    return Vec::new();
                };
                let accounts = match &row.profile {
                    Some(p) => profile::keyring_accounts(p),
                    // Unknown: whatever is stored under the name goes.
                    None => vec![format!("{}/*", row.name)],
                };
                self.popup = Some(Popup::ConfirmDelete {
                    name: row.name,
                    accounts,
                    broken: row.profile.is_none(),
                });
                redraw
            }
            C::DeleteConfirm => {
                let Some(Popup::ConfirmDelete { name, .. }) = self.popup.take() else {
                    return Vec::new();
                };
                let Some(path) = self.path.clone() else {
                    return vec![ProfilesEffect::Status(s::DEMO_READ_ONLY.into())];
                };
                self.busy = true;
                vec![
                    ProfilesEffect::Store(StoreJob::Delete { path, name }),
                    ProfilesEffect::Redraw,
                ]
            }
            C::DeleteCancel | C::RenameCancel => {
                self.popup = None;
                redraw
            }
            C::RenameConfirm => {
                let Some(Popup::Rename {
                    old, text, error, ..
                }) = &mut self.popup
                else {
                    return Vec::new();
                };
                let new = text.trim().to_string();
                if new == *old {
                    self.popup = None;
                    return redraw;
                }
                if let Err(e) = profile::check_field(FormField::Name, &new) {
                    *error = Some(e);
                    return redraw;
                }
                let old = old.clone();
                if self.rows.iter().any(|r| r.name == new) {
                    if let Some(Popup::Rename { error, .. }) = &mut self.popup {
                        *error = Some(format!("a profile named {new} already exists"));
                    }
                    return redraw;
                }
                let Some(path) = self.path.clone() else {
                    return vec![ProfilesEffect::Status(s::DEMO_READ_ONLY.into())];
                };
                self.popup = None;
                self.busy = true;
                vec![
                    ProfilesEffect::Store(StoreJob::Rename { path, old, new }),
                    ProfilesEffect::Redraw,
                ]
            }
            C::FormNext => self.focus_by(1),
            C::FormPrev => self.focus_by(-1),
            C::FormCancel => {
                match self.form_mut() {
                    // Changed fields are not dropped on one key: ask first.
                    Some(f) if f.form.changed() => f.asking_discard = true,
                    _ => self.popup = None,
                }
                redraw
            }
            C::DiscardConfirm => {
                self.popup = None;
                redraw
            }
            C::DiscardCancel => {
                if let Some(f) = self.form_mut() {
                    f.asking_discard = false;
                }
                redraw
            }
            C::FormSave => self.save(),
        }
    }

    fn cannot_edit(&self, name: &str) -> Vec<ProfilesEffect> {
        if self.path.is_none() {
            return vec![ProfilesEffect::Status(s::DEMO_READ_ONLY.into())];
        }
        let why = self
            .rows
            .iter()
            .find(|r| r.name == name)
            .and_then(|r| r.load_error.clone())
            .unwrap_or_default();
        vec![ProfilesEffect::Status(format!(
            "{name} cannot be loaded, so the form cannot show it; fix it in the file: {why}"
        ))]
    }

    fn free_name(&self, base: &str) -> String {
        let taken = |n: &str| self.rows.iter().any(|r| r.name == n);
        if !taken(base) {
            return base.to_string();
        }
        (2..)
            .map(|i| format!("{base}{i}"))
            .find(|n| !taken(n))
            .unwrap_or_else(|| base.to_string())
    }

    fn open(&mut self, form: ProfileForm, mode: FormMode) {
        let focus = usize::from(matches!(mode, FormMode::Edit { .. }));
        let cursor = form.value(FORM_FIELDS[focus]).chars().count();
        self.popup = Some(Popup::Form(Box::new(FormState {
            form,
            mode,
            focus,
            cursor,
            errors: HashMap::new(),
            checking: Vec::new(),
            saving: false,
            asking_discard: false,
        })));
    }

    /// Opens the form on a saved profile (also `e` from Diagnose).
    pub fn open_form(&mut self, name: &str) {
        if self.path.is_none() || self.busy {
            return;
        }
        let Some(p) = self
            .rows
            .iter()
            .find(|r| r.name == name)
            .and_then(|r| r.profile.clone())
        else {
            return;
        };
        self.select_name(name);
        self.open(
            ProfileForm::edit(&p),
            FormMode::Edit {
                name: name.to_string(),
            },
        );
    }

    fn form_mut(&mut self) -> Option<&mut FormState> {
        match &mut self.popup {
            Some(Popup::Form(f)) => Some(f),
            _ => None,
        }
    }

    /// Moves the focus; leaving a file field starts its check (it reads the file).
    fn focus_by(&mut self, delta: i64) -> Vec<ProfilesEffect> {
        let Some(f) = self.form_mut() else {
            return Vec::new();
        };
        let left = FORM_FIELDS[f.focus];
        let n = FORM_FIELDS.len() as i64;
        f.focus = (f.focus as i64 + delta).rem_euclid(n) as usize;
        let now = FORM_FIELDS[f.focus];
        f.cursor = field_text(&f.form, now).chars().count();
        let mut out = vec![ProfilesEffect::Redraw];
        if matches!(
            left,
            FormField::Ca | FormField::ClientCert | FormField::ClientKey
        ) {
            let value = f.form.value(left).to_string();
            let untouched = f.form.original.as_ref().is_some_and(|_| {
                ProfileForm::edit(f.form.original.as_ref().unwrap()).value(left) == value
            });
            if !value.trim().is_empty() && !untouched {
                f.checking.push(left);
                out.push(ProfilesEffect::Store(StoreJob::CheckField {
                    field: left,
                    value,
                }));
            } else {
                f.errors.remove(&Some(left));
            }
        }
        out
    }

    fn save(&mut self) -> Vec<ProfilesEffect> {
        let path = self.path.clone();
        let seen = self.fingerprint;
        let busy = self.busy;
        let Some(f) = self.form_mut() else {
            return Vec::new();
        };
        if f.saving || busy {
            return vec![ProfilesEffect::Status(s::BUSY.into())];
        }
        // The checks that need no file first, at once.
        f.errors.retain(|k, _| {
            matches!(
                k,
                Some(FormField::Ca | FormField::ClientCert | FormField::ClientKey)
            )
        });
        for field in FORM_FIELDS {
            if field_is_pure(field)
                && let Err(e) = profile::check_field(field, f.form.value(field))
                && !(field == FormField::Name && matches!(f.mode, FormMode::Edit { .. }))
            {
                f.errors.insert(Some(field), e);
            }
        }
        if !f.errors.is_empty() {
            return vec![ProfilesEffect::Redraw];
        }
        let Some(path) = path else {
            return vec![ProfilesEffect::Status(s::DEMO_READ_ONLY.into())];
        };
        f.saving = true;
        let job = StoreJob::Save {
            path,
            form: Box::new(f.form.clone()),
            mode: f.mode.clone(),
            seen,
        };
        self.busy = true;
        vec![ProfilesEffect::Store(job), ProfilesEffect::Redraw]
    }

    fn run_selected(&mut self) -> Vec<ProfilesEffect> {
        let Some(row) = self.selected_row().cloned() else {
            return Vec::new();
        };
        if let Some(e) = &row.load_error {
            return vec![ProfilesEffect::Status(format!(
                "{}: {} ({e})",
                row.name,
                s::CANNOT_LOAD
            ))];
        }
        self.set_status(&row.name, RowStatus::Running);
        vec![
            ProfilesEffect::Run { name: row.name },
            ProfilesEffect::Redraw,
        ]
    }

    fn run_everything(&mut self) -> Vec<ProfilesEffect> {
        let names: Vec<String> = self
            .rows
            .iter()
            .filter(|r| r.load_error.is_none())
            .map(|r| r.name.clone())
            .collect();
        if names.is_empty() {
            return Vec::new();
        }
        for n in &names {
            self.set_status(n, RowStatus::Running);
        }
        self.run_all = Some(RunAll {
            names: names.clone(),
            started: Instant::now(),
            millis: None,
        });
        vec![ProfilesEffect::RunAll { names }, ProfilesEffect::Redraw]
    }

    fn set_status(&mut self, name: &str, status: RowStatus) {
        if let Some(r) = self.rows.iter_mut().find(|r| r.name == name) {
            r.status = Some(status);
        }
    }

    /// Printable keys, Backspace, Delete and cursor keys while a text field has focus.
    pub fn text_key(&mut self, key: KeyInput) -> Vec<ProfilesEffect> {
        if key.ctrl || key.alt {
            return Vec::new();
        }
        match self.context() {
            ProfilesContext::Filter => {
                let mut cursor = self.filter.chars().count();
                edit(&mut self.filter, &mut cursor, key.key);
                self.selected = 0;
                self.clamp();
                vec![ProfilesEffect::Redraw]
            }
            ProfilesContext::Rename => {
                if let Some(Popup::Rename {
                    text,
                    cursor,
                    error,
                    ..
                }) = &mut self.popup
                {
                    edit(text, cursor, key.key);
                    *error = profile::check_field(FormField::Name, text).err();
                }
                vec![ProfilesEffect::Redraw]
            }
            ProfilesContext::Form => {
                let Some(f) = self.form_mut() else {
                    return Vec::new();
                };
                let field = FORM_FIELDS[f.focus];
                if field == FormField::Name && matches!(f.mode, FormMode::Edit { .. }) {
                    return vec![ProfilesEffect::Status(format!(
                        "{} {}",
                        s::label(field),
                        s::NAME_FIXED
                    ))];
                }
                let mut text = field_text(&f.form, field).to_string();
                edit(&mut text, &mut f.cursor, key.key);
                f.form.set(field, text);
                // Fields that need no file are checked as they are typed.
                if field_is_pure(field) {
                    match profile::check_field(field, f.form.value(field)) {
                        Ok(()) => f.errors.remove(&Some(field)),
                        Err(e) => f.errors.insert(Some(field), e),
                    };
                } else {
                    f.errors.remove(&Some(field));
                }
                f.errors.remove(&None);
                vec![ProfilesEffect::Redraw]
            }
            _ => Vec::new(),
        }
    }

    /// A click at absolute screen coordinates: selects the row under it.
    pub fn click(&mut self, _column: u16, row: u16) -> Vec<ProfilesEffect> {
        if self.popup.is_some() {
            return Vec::new();
        }
        let (top, count, _) = self.drawn_rows.get();
        if row >= top && row < top + count {
            let i = self.offset.get() + usize::from(row - top);
            if let Some(target) = self.line_to_visible(i) {
                self.selected = target;
                return vec![ProfilesEffect::Redraw];
            }
        }
        Vec::new()
    }

    pub fn scroll(&mut self, lines: i32) {
        if self.popup.is_none() {
            self.move_by(i64::from(lines));
        }
    }

    pub fn on_event(&mut self, ev: ProfilesEvent) -> Vec<ProfilesEffect> {
        match ev {
            ProfilesEvent::Loaded(Ok(loaded)) => {
                self.loading = false;
                self.load_error = None;
                self.apply_loaded(loaded);
            }
            ProfilesEvent::Loaded(Err(e)) => {
                self.loading = false;
                self.load_error = Some(e.clone());
                return vec![ProfilesEffect::Status(e), ProfilesEffect::Redraw];
            }
            ProfilesEvent::FieldChecked {
                field,
                value,
                error,
            } => {
                if let Some(f) = self.form_mut() {
                    f.checking.retain(|c| *c != field);
                    // A check of text the user has changed since is stale.
                    if f.form.value(field) == value {
                        match error {
                            Some(e) => f.errors.insert(Some(field), e),
                            None => f.errors.remove(&Some(field)),
                        };
                    }
                }
            }
            ProfilesEvent::Stored(stored) => return self.stored(stored),
            ProfilesEvent::Row { name, status } => {
                self.set_status(&name, status);
                self.finish_run_all();
            }
        }
        vec![ProfilesEffect::Redraw]
    }

    fn stored(&mut self, stored: Stored) -> Vec<ProfilesEffect> {
        self.busy = false;
        if let Some(loaded) = stored.reloaded {
            self.apply_loaded(loaded);
        }
        if let Some(name) = &stored.select {
            self.select_name(name);
        }
        let mut out = vec![ProfilesEffect::Redraw];
        match stored.result {
            Ok(message) => {
                if let Some(Popup::Form(_)) = &self.popup {
                    self.popup = None;
                }
                out.push(ProfilesEffect::Status(message));
            }
            Err(StoreFailure::Form(errors)) => {
                if let Some(f) = self.form_mut() {
                    f.saving = false;
                    for (field, e) in errors {
                        f.errors.insert(field, e);
                    }
                    if let Some(first) = FORM_FIELDS
                        .iter()
                        .position(|x| f.errors.contains_key(&Some(*x)))
                    {
                        f.focus = first;
                        f.cursor = field_text(&f.form, FORM_FIELDS[first]).chars().count();
                    }
                }
            }
            Err(StoreFailure::Message(m)) => {
                if let Some(f) = self.form_mut() {
                    f.saving = false;
                    f.errors.insert(None, m.clone());
                }
                out.push(ProfilesEffect::Status(m));
            }
        }
        out
    }

    fn apply_loaded(&mut self, loaded: Loaded) {
        let keep = self.selected_row().map(|r| r.name.clone());
        let old: HashMap<String, Option<RowStatus>> =
            self.rows.drain(..).map(|r| (r.name, r.status)).collect();
        let mut rows: Vec<Row> = loaded
            .profiles
            .into_iter()
            .map(|p| Row {
                name: p.name.clone(),
                group: None,
                // A signed URL's query values are tokens: the row shows their names only.
                url: p
                    .target_url()
                    .map(|u| crate::report::redact::url(&u))
                    .unwrap_or_default(),
                load_error: None,
                status: None,
                profile: Some(p),
            })
            .chain(loaded.broken.into_iter().map(|(name, e)| Row {
                name,
                group: None,
                url: String::new(),
                profile: None,
                load_error: Some(e),
                status: None,
            }))
            .collect();
        rows.sort_by(|a, b| a.name.cmp(&b.name));
        for r in &mut rows {
            // The verdicts since the app opened stay with their profile.
            r.status = old.get(&r.name).cloned().flatten();
        }
        self.rows = rows;
        self.fingerprint = loaded.fingerprint;
        if let Some(n) = keep {
            self.select_name(&n);
        }
        self.clamp();
    }

    fn finish_run_all(&mut self) {
        let Some(run) = &mut self.run_all else {
            return;
        };
        let done = run.names.iter().all(|n| {
            self.rows
                .iter()
                .find(|r| r.name == *n)
                .is_none_or(|r| !matches!(r.status, Some(RowStatus::Running)))
        });
        if done && run.millis.is_none() {
            run.millis = Some(run.started.elapsed().as_millis() as u64);
        }
    }

    /// (ok, failed, cannot run, running) over the last run-all's rows and the unloadable ones.
    fn tally(&self) -> (usize, usize, usize, usize) {
        let Some(run) = &self.run_all else {
            return (0, 0, 0, 0);
        };
        let mut t = (0, 0, 0, 0);
        for r in &self.rows {
            if r.load_error.is_some() {
                t.2 += 1;
                continue;
            }
            if !run.names.contains(&r.name) {
                continue;
            }
            match &r.status {
                Some(RowStatus::Done { ok: true, .. }) => t.0 += 1,
                Some(RowStatus::Done { ok: false, .. }) => t.1 += 1,
                Some(RowStatus::CannotRun(_)) => t.2 += 1,
                Some(RowStatus::Running) | None => t.3 += 1,
            }
        }
        t
    }

    pub fn dirty(&self) -> bool {
        matches!(&self.popup, Some(Popup::Form(f)) if f.form.changed())
            || matches!(&self.popup, Some(Popup::Rename { old, text, .. }) if old != text)
    }

    /// Every listed profile's name (the Certificates tab attaches to one of them or a new one).
    pub fn names(&self) -> Vec<String> {
        self.rows.iter().map(|r| r.name.clone()).collect()
    }

    pub fn selected_name(&self) -> Option<&str> {
        self.selected_row().map(|r| r.name.as_str())
    }

    /// `y`: the verdict with its cause when the profile ran, else the command that
    /// reproduces the connection (`profile export`).
    pub fn copy_text(&self) -> Option<String> {
        let row = self.selected_row()?;
        match (&row.status, &row.profile, &row.load_error) {
            (
                Some(RowStatus::Done {
                    ok: true, millis, ..
                }),
                _,
                _,
            ) => Some(format!(
                "{}: ok in {}",
                row.name,
                crate::report::duration_text(*millis)
            )),
            (
                Some(RowStatus::Done {
                    ok: false,
                    stage,
                    cause,
                    ..
                }),
                _,
                _,
            ) => Some(format!(
                "{}: failed at {} ({})",
                row.name,
                stage.map(|s| s.id()).unwrap_or("?"),
                cause.as_deref().unwrap_or("?")
            )),
            (Some(RowStatus::CannotRun(e)), _, _) => Some(format!("{}: cannot run: {e}", row.name)),
            (_, _, Some(e)) => Some(format!("{}: cannot load: {e}", row.name)),
            (_, Some(p), _) => profile::export(p, profile::ExportFormat::MosquittoSub).ok(),
            _ => Some(row.name.clone()),
        }
    }

    /// Maps a line of the drawn list (headings included) to an index into `visible`.
    fn line_to_visible(&self, line: usize) -> Option<usize> {
        view::lines(self).get(line).and_then(|l| match l {
            view::ListLine::Row(i) => Some(*i),
            view::ListLine::Heading(_) => None,
        })
    }

    pub fn draw(&self, frame: &mut ratatui::Frame, area: ratatui::layout::Rect, look: &Look) {
        view::draw(self, frame, area, look);
    }
}

/// What the form shows and edits for a field (the password's typed text is edited but never
/// drawn).
fn field_text(form: &ProfileForm, field: FormField) -> &str {
    if field == FormField::Password {
        form.password_text()
    } else {
        form.value(field)
    }
}

/// Fields whose check reads no file (checked on every key).
fn field_is_pure(field: FormField) -> bool {
    !matches!(
        field,
        FormField::Ca | FormField::ClientCert | FormField::ClientKey
    )
}

/// One editing key applied to `text` at `cursor` (in characters).
fn edit(text: &mut String, cursor: &mut usize, key: Key) {
    let len = text.chars().count();
    *cursor = (*cursor).min(len);
    let byte = |t: &str, c: usize| t.char_indices().nth(c).map(|(i, _)| i).unwrap_or(t.len());
    match key {
        Key::Char(c) if !c.is_control() => {
            let at = byte(text, *cursor);
            text.insert(at, c);
            *cursor += 1;
        }
        Key::Backspace if *cursor > 0 => {
            let at = byte(text, *cursor - 1);
            text.remove(at);
            *cursor -= 1;
        }
        Key::Delete if *cursor < len => {
            let at = byte(text, *cursor);
            text.remove(at);
        }
        Key::Left => *cursor = cursor.saturating_sub(1),
        Key::Right => *cursor = (*cursor + 1).min(len),
        Key::Home => *cursor = 0,
        Key::End => *cursor = len,
        _ => {}
    }
}

/// Carries out a store job off the UI task (files and the keyring in `spawn_blocking`; every
/// keyring call has the secrets module's deadline).
pub async fn carry_out(job: StoreJob) -> ProfilesEvent {
    let work = move || match job {
        StoreJob::Load { path } => ProfilesEvent::Loaded(
            ProfileStore::load_keeping_broken(path)
                .map(|s| Loaded::from_store(&s))
                .map_err(|e| e.to_string()),
        ),
        StoreJob::CheckField { field, value } => ProfilesEvent::FieldChecked {
            field,
            error: profile::check_field(field, &value).err(),
            value,
        },
        StoreJob::Save {
            path,
            form,
            mode,
            seen,
        } => ProfilesEvent::Stored(save_job(&path, &form, &mode, seen)),
        StoreJob::Delete { path, name } => ProfilesEvent::Stored(delete_job(&path, &name)),
        StoreJob::Rename { path, old, new } => ProfilesEvent::Stored(rename_job(&path, &old, &new)),
    };
    tokio::task::spawn_blocking(work).await.unwrap_or_else(|e| {
        ProfilesEvent::Stored(Stored {
            result: Err(StoreFailure::Message(format!(
                "the profiles file could not be written: {e}"
            ))),
            reloaded: None,
            select: None,
        })
    })
}

fn failed(message: String, store: Option<&ProfileStore>) -> Stored {
    Stored {
        result: Err(StoreFailure::Message(message)),
        reloaded: store.map(Loaded::from_store),
        select: None,
    }
}

/// Saying so when another program changed the file since the tab read it.
fn merged_note(store: &ProfileStore, seen: Option<[u8; 32]>) -> &'static str {
    if store.fingerprint() != seen {
        " (the file had been changed by another program since it was read; those changes were kept)"
    } else {
        ""
    }
}

fn save_job(path: &Path, form: &ProfileForm, mode: &FormMode, seen: Option<[u8; 32]>) -> Stored {
    let mut store = match ProfileStore::load_for_update_keeping_broken(path) {
        Ok(s) => s,
        Err(e) => return failed(e.to_string(), None),
    };
    let file = path.display();
    if let FormMode::Edit { name } = mode
        && store.get(name) != form.original.as_ref()
    {
        return failed(
            format!(
                "profile {name} was changed in {file} by another program since it was read; nothing was saved: the list now shows the file's version (your edit is still in the form)"
            ),
            Some(&store),
        );
    }
    let built = match form.build() {
        Ok(b) => b,
        Err(errors) => {
            return Stored {
                result: Err(StoreFailure::Form(errors)),
                reloaded: None,
                select: None,
            };
        }
    };
    let name = built.profile.name.clone();
    if !matches!(mode, FormMode::Edit { .. }) && store.names().contains(&name.as_str()) {
        return Stored {
            result: Err(StoreFailure::Form(vec![(
                Some(FormField::Name),
                format!("a profile named {name} already exists in {file}"),
            )])),
            reloaded: Some(Loaded::from_store(&store)),
            select: None,
        };
    }
    let keyring = KeyringOnDemand::new();
    let mut pending = Vec::new();
    if let Some(pw) = &built.password {
        pending.push((Kind::Password, pw.clone()));
    }
    // A duplicate gets its own copy of the source's keyring entries.
    if let FormMode::Duplicate { from } = mode {
        let mut kinds: Vec<Kind> = built
            .profile
            .keyring_entries()
            .into_iter()
            .map(|(_, k)| k)
            .filter(|k| !(built.password.is_some() && *k == Kind::Password))
            .collect();
        kinds.dedup();
        for kind in kinds {
            let value = keyring
                .store()
                .and_then(|ring| ring.get(from, kind).map_err(|e| e.to_string()));
            match value {
                Ok(Some(v)) => pending.push((kind, v)),
                Ok(None) => {
                    return failed(
                        format!(
                            "profile {from} has no {} in the keyring ({}), so the copy would have none: type it into the form",
                            kind.label(),
                            kind.account(from)
                        ),
                        None,
                    );
                }
                Err(e) => return failed(e, None),
            }
        }
    }
    let previous = match mode {
        FormMode::Edit { name } => store.get(name).cloned(),
        _ => None,
    };
    let note = merged_note(&store, seen);
    let secret_note = if built.password.is_some() {
        format!(
            "; password in the keyring as {}",
            Kind::Password.account(&name)
        )
    } else {
        String::new()
    };
    match profile::save_with_secrets(&mut store, built.profile, previous, pending, &keyring) {
        Ok(()) => Stored {
            // The status line names the file already; the keyring entry is the news.
            result: Ok(format!("saved profile {name}{secret_note}{note}")),
            reloaded: Some(Loaded::from_store(&store)),
            select: Some(name),
        },
        Err(e) => failed(e, Some(&store)),
    }
}

fn delete_job(path: &Path, name: &str) -> Stored {
    let mut store = match ProfileStore::load_for_update_keeping_broken(path) {
        Ok(s) => s,
        Err(e) => return failed(e.to_string(), None),
    };
    let result = profile::remove_with_secrets(&mut store, name, false, &KeyringOnDemand::new());
    let result = match result {
        Ok(0) => Ok(format!("deleted profile {name}")),
        Ok(n) => Ok(format!("deleted profile {name} and {n} keyring entries")),
        Err(e) => Err(StoreFailure::Message(e)),
    };
    Stored {
        result,
        reloaded: ProfileStore::load_keeping_broken(path)
            .ok()
            .map(|s| Loaded::from_store(&s)),
        select: None,
    }
}

fn rename_job(path: &Path, old: &str, new: &str) -> Stored {
    let mut store = match ProfileStore::load_for_update_keeping_broken(path) {
        Ok(s) => s,
        Err(e) => return failed(e.to_string(), None),
    };
    match profile::rename_with_secrets(&mut store, old, new, &KeyringOnDemand::new()) {
        Ok(()) => Stored {
            result: Ok(format!("renamed profile {old} to {new}")),
            reloaded: Some(Loaded::from_store(&store)),
            select: Some(new.to_string()),
        },
        Err(e) => failed(e, Some(&store)),
    }
}

/// The plan of a saved profile (the file read and keyring calls off the UI task, with their
/// deadline). A profile that cannot be used says why in one sentence.
pub async fn plan_for(path: &Path, name: &str) -> Result<super::RunInputs, String> {
    let path = path.to_path_buf();
    let store = tokio::task::spawn_blocking(move || ProfileStore::load_keeping_broken(path))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    if let Some(b) = store.broken().iter().find(|b| b.name == name) {
        return Err(format!("{}: {}", s::CANNOT_LOAD, b.error));
    }
    let profile = store
        .get(name)
        .ok_or_else(|| format!("no profile named {name} in {}", store.path().display()))?
        .clone();
    let keyring = crate::profile::AsyncKeyring::default();
    let env = |k: &str| std::env::var(k).ok();
    let plan = crate::profile::resolve_async(&profile, &env, &keyring)
        .await
        .map_err(|e| e.to_string())?;
    Ok(super::RunInputs { profile, plan })
}
