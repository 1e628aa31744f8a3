//! The profile form as plain data, for every front that edits profiles field by field (the
//! app's Profiles tab): one check per field, shown inline while typing, and the whole form →
//! a [`Profile`] (through [`Overrides::apply`] and the resolver) plus the typed password.
//! Also the shared save-time pieces the CLI uses: [`check_runs`] and [`save_with_secrets`].

use std::path::PathBuf;

use super::error::ProfileError;
use super::model::{HeaderValue, Material, Profile, SecretSource, valid_profile_name};
use super::overrides::Overrides;
use super::resolve::{Field, KeyringOnDemand, PlanError, resolve};
use super::store::ProfileStore;
use crate::certs;
use crate::secrets::{Kind, Secret};

/// The fields of the form, in the order they are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FormField {
    Name,
    Url,
    Username,
    /// Masked; goes to the OS keyring as `<name>/password`, never to the file.
    Password,
    Ca,
    ClientCert,
    ClientKey,
    /// Comma-separated topic filters.
    Topics,
    Notes,
}

pub const FORM_FIELDS: [FormField; 9] = [
    FormField::Name,
    FormField::Url,
    FormField::Username,
    FormField::Password,
    FormField::Ca,
    FormField::ClientCert,
    FormField::ClientKey,
    FormField::Topics,
    FormField::Notes,
];

impl FormField {
    /// The key in `profiles.toml` this field writes.
    pub fn key(self) -> &'static str {
        match self {
            FormField::Name => "name",
            FormField::Url => "url",
            FormField::Username => "username",
            FormField::Password => "password",
            FormField::Ca => "tls.ca",
            FormField::ClientCert => "tls.client_cert",
            FormField::ClientKey => "tls.client_key",
            FormField::Topics => "topics",
            FormField::Notes => "notes",
        }
    }

    pub fn masked(self) -> bool {
        self == FormField::Password
    }

    fn from_key(key: &str) -> Option<FormField> {
        let key = key.trim_start_matches("profile.");
        FORM_FIELDS.iter().copied().find(|f| f.key() == key)
    }

    fn from_plan_field(field: Field) -> Option<FormField> {
        Some(match field {
            Field::Url => FormField::Url,
            Field::Ca => FormField::Ca,
            Field::ClientCert => FormField::ClientCert,
            Field::ClientKey => FormField::ClientKey,
            Field::Username => FormField::Username,
            Field::Password => FormField::Password,
            Field::Topics => FormField::Topics,
            _ => return None,
        })
    }
}

/// The message of a profile error without the "profile `x`, field `y`:" prefix (the form
/// shows it beside the field).
fn bare_message(e: ProfileError) -> String {
    match e {
        ProfileError::Invalid { message, .. } | ProfileError::Value { message, .. } => message,
        other => other.to_string(),
    }
}

fn no_controls(value: &str) -> Result<(), String> {
    if value.chars().any(char::is_control) {
        Err("control characters are not allowed".into())
    } else {
        Ok(())
    }
}

/// Checks one field's text on its own (cross-field rules come from [`ProfileForm::build`]).
/// An empty optional field is fine. File fields read and parse the file now.
pub fn check_field(field: FormField, value: &str) -> Result<(), String> {
    let value_trimmed = value.trim();
    match field {
        FormField::Name => {
            if value_trimmed.is_empty() {
                return Err("a profile needs a name".into());
            }
            if !valid_profile_name(value_trimmed) {
                return Err("use letters, digits, `.`, `_` or `-` (at most 64 characters)".into());
            }
            Ok(())
        }
        FormField::Url => {
            if value_trimmed.is_empty() {
                return Err("give the broker URL, e.g. mqtts://broker.example.com:8883".into());
            }
            Profile::new("form", value_trimmed)
                .endpoint()
                .map(|_| ())
                .map_err(bare_message)
        }
        FormField::Username | FormField::Notes => no_controls(value),
        FormField::Password => Ok(()),
        FormField::Ca | FormField::ClientCert | FormField::ClientKey => {
            if value_trimmed.is_empty() {
                return Ok(());
            }
            let path = PathBuf::from(value_trimmed);
            let bytes = certs::read_checked(&path, certs::MAX_CERT_FILE).map_err(|e| {
                if e.kind() == std::io::ErrorKind::NotFound {
                    format!("{value_trimmed}: no such file")
                } else {
                    format!("{value_trimmed}: the file cannot be read ({e})")
                }
            })?;
            let loaded = match certs::load(value_trimmed, &bytes, None) {
                Ok(l) => Some(l),
                // An encrypted key is a key; its passphrase is asked where it runs.
                Err(certs::CertError::PassphraseRequired { .. })
                    if field == FormField::ClientKey =>
                {
                    None
                }
                Err(e) => return Err(e.to_string().trim_end_matches('.').to_string()),
            };
            match (field, loaded) {
                (FormField::Ca | FormField::ClientCert, Some(l)) if l.certs.is_empty() => Err(
                    format!("{value_trimmed}: holds no certificate (only a key or nothing usable)"),
                ),
                (FormField::ClientKey, Some(l)) if l.key.is_none() => {
                    Err(format!("{value_trimmed}: holds no private key"))
                }
                _ => Ok(()),
            }
        }
        FormField::Topics => {
            if topics(value).iter().any(String::is_empty) {
                return Err("a topic filter cannot be empty (separate filters with `,`)".into());
            }
            no_controls(value)
        }
    }
}

fn topics(value: &str) -> Vec<String> {
    if value.trim().is_empty() {
        return Vec::new();
    }
    value.split(',').map(|t| t.trim().to_string()).collect()
}

/// A form being filled in: one text per field, plus the typed password (never shown).
#[derive(Debug, Clone, PartialEq)]
pub struct ProfileForm {
    /// The profile being edited (`None`: a new one). Fields the user did not touch keep
    /// what it had, including things the form does not show.
    pub original: Option<Profile>,
    values: Vec<String>,
    initial: Vec<String>,
    /// What the user typed into the masked password field (`None`: unchanged).
    password: Option<Secret>,
}

/// A form that passed every check: the profile to save and the password for the keyring.
#[derive(Debug, Clone, PartialEq)]
pub struct FormResult {
    pub profile: Profile,
    pub password: Option<Secret>,
}

/// One problem of the form: the field it is about (`None`: the form as a whole).
pub type FormError = (Option<FormField>, String);

fn material_text(m: &Option<Material>) -> String {
    match m {
        Some(Material::File(p)) => p.display().to_string(),
        Some(Material::Keyring) => "(in the keyring)".into(),
        None => String::new(),
    }
}

impl ProfileForm {
    /// An empty form for a new profile.
    pub fn new_profile() -> ProfileForm {
        ProfileForm {
            original: None,
            values: vec![String::new(); FORM_FIELDS.len()],
            initial: vec![String::new(); FORM_FIELDS.len()],
            password: None,
        }
    }

    /// A form showing `p` for editing.
    pub fn edit(p: &Profile) -> ProfileForm {
        let values: Vec<String> = FORM_FIELDS
            .iter()
            .map(|f| match f {
                FormField::Name => p.name.clone(),
                FormField::Url => p.target_url().unwrap_or_default(),
                FormField::Username => p.username.clone().unwrap_or_default(),
                FormField::Password => String::new(),
                FormField::Ca => material_text(&p.tls.ca),
                FormField::ClientCert => material_text(&p.tls.client_cert),
                FormField::ClientKey => material_text(&p.tls.client_key),
                FormField::Topics => p.topics.join(", "),
                FormField::Notes => p.notes.clone().unwrap_or_default(),
            })
            .collect();
        ProfileForm {
            original: Some(p.clone()),
            initial: values.clone(),
            values,
            password: None,
        }
    }

    fn index(field: FormField) -> usize {
        FORM_FIELDS.iter().position(|f| *f == field).unwrap_or(0)
    }

    /// The text of a field. The password field's text is always empty: see
    /// [`ProfileForm::password_len`].
    pub fn value(&self, field: FormField) -> &str {
        &self.values[Self::index(field)]
    }

    pub fn set(&mut self, field: FormField, value: impl Into<String>) {
        let value = value.into();
        if field == FormField::Password {
            self.password = (!value.is_empty()).then(|| Secret::new(value));
        } else {
            self.values[Self::index(field)] = value;
        }
    }

    /// How many characters were typed into the password field (the screen shows that many
    /// mask characters, never the value).
    pub fn password_len(&self) -> usize {
        self.password
            .as_ref()
            .map(|s| s.expose().chars().count())
            .unwrap_or(0)
    }

    /// Edit the password by its current text (for a text-editing front).
    pub fn password_text(&self) -> &str {
        self.password.as_ref().map(Secret::expose).unwrap_or("")
    }

    /// Where the saved password is kept, for the placeholder of an untouched field.
    pub fn password_source(&self) -> Option<&SecretSource> {
        self.original.as_ref().and_then(|p| p.password.as_ref())
    }

    /// Whether anything differs from what the form started with.
    pub fn changed(&self) -> bool {
        self.values != self.initial || self.password.is_some()
    }

    fn touched(&self, field: FormField) -> bool {
        let i = Self::index(field);
        self.values[i] != self.initial[i]
    }

    /// Each field's own check, for the fields that have a problem.
    pub fn field_errors(&self) -> Vec<(FormField, String)> {
        FORM_FIELDS
            .iter()
            .filter(|f| **f != FormField::Password)
            .filter_map(|f| {
                // Untouched fields of a saved profile are checked by the whole-form build
                // (a keyring placeholder is not a path).
                if self.original.is_some() && !self.touched(*f) && *f != FormField::Name {
                    return None;
                }
                check_field(*f, self.value(*f)).err().map(|e| (*f, e))
            })
            .collect()
    }

    /// The profile this form describes, checked field by field and as a whole (the same
    /// rules as `profile add`: [`Profile::validate`] and [`check_runs`]).
    pub fn build(&self) -> Result<FormResult, Vec<FormError>> {
        let errors: Vec<FormError> = self
            .field_errors()
            .into_iter()
            .map(|(f, e)| (Some(f), e))
            .collect();
        if !errors.is_empty() {
            return Err(errors);
        }
        let name = self.value(FormField::Name).trim().to_string();
        let mut p = self.original.clone().unwrap_or_default();
        p.name = name;
        if self.original.is_none() || self.touched(FormField::Url) {
            p.url = Some(self.value(FormField::Url).trim().to_string());
            p.host = None;
            p.port = None;
            p.transport = None;
        }
        let text = |f: FormField| {
            let v = self.value(f).trim();
            (!v.is_empty()).then(|| v.to_string())
        };
        let mut over = Overrides::default();
        let fresh = |f: FormField| self.original.is_none() || self.touched(f);
        if fresh(FormField::Username) {
            p.username = None;
            over.username = text(FormField::Username);
        }
        if fresh(FormField::Ca) {
            p.tls.ca = None;
            over.ca = text(FormField::Ca).map(PathBuf::from);
        }
        if fresh(FormField::ClientCert) {
            p.tls.client_cert = None;
            over.client_cert = text(FormField::ClientCert).map(PathBuf::from);
        }
        if fresh(FormField::ClientKey) {
            p.tls.client_key = None;
            over.client_key = text(FormField::ClientKey).map(PathBuf::from);
        }
        if fresh(FormField::Topics) {
            p.topics = Vec::new();
            over.topics = topics(self.value(FormField::Topics));
        }
        if fresh(FormField::Notes) {
            p.notes = text(FormField::Notes);
        }
        let one = |f: Option<FormField>, m: String| vec![(f, m)];
        over.absolute_paths()
            .apply(&mut p)
            .map_err(|e| one(FormField::from_plan_field(e.field), e.problem))?;
        if self.password.is_some() {
            p.password = Some(SecretSource::Keyring);
        }
        p.validate().map_err(|e| {
            let field = match &e {
                ProfileError::Invalid { field, .. } => FormField::from_key(field),
                _ => None,
            };
            one(field, bare_message(e))
        })?;
        check_runs(&p).map_err(|e| one(FormField::from_plan_field(e.field), e.problem))?;
        Ok(FormResult {
            profile: p,
            password: self.password.clone(),
        })
    }
}

/// Checks that a profile about to be saved can run: URL, files and options, through the same
/// resolver a check uses. Keyring entries are left out (they may not be stored yet) and
/// environment variables that are not set here read as empty (they may be set where it runs).
pub fn check_runs(p: &Profile) -> Result<(), PlanError> {
    let mut probe = p.clone();
    probe.name = String::new();
    for source in [
        &mut probe.password,
        &mut probe.tls.passphrase,
        &mut probe.proxy_password,
    ] {
        if *source == Some(SecretSource::Keyring) {
            *source = None;
        }
    }
    let keyring_identity = [
        &probe.tls.client_cert,
        &probe.tls.client_key,
        &probe.tls.p12,
    ]
    .iter()
    .any(|m| **m == Some(Material::Keyring));
    // A passphrase variable that is not set here may be set where the profile runs: the
    // encrypted key cannot be opened now, and an empty passphrase would read as a wrong one.
    let passphrase_elsewhere = matches!(
        &probe.tls.passphrase,
        Some(SecretSource::Env(var)) if std::env::var_os(var).is_none()
    );
    if keyring_identity || passphrase_elsewhere {
        probe.tls.client_cert = None;
        probe.tls.client_key = None;
        probe.tls.p12 = None;
    }
    for v in probe.ws_headers.values_mut() {
        if *v == HeaderValue::Keyring {
            *v = HeaderValue::Literal("stored-in-keyring".into());
        }
    }
    let env = |k: &str| Some(std::env::var(k).unwrap_or_default());
    resolve(&probe, &env, &KeyringOnDemand::new()).map(|_| ())
}

/// Secrets to put in the keyring once the profile that refers to them is saved.
pub type PendingSecrets = Vec<(Kind, Secret)>;

/// Saves `p` into `store`, then writes its pending keyring entries. Keyring entries come
/// second so that a lost save never leaves secrets no profile refers to; if an entry cannot
/// be written the file is put back as it was (`previous`) and the error says so.
pub fn save_with_secrets(
    store: &mut ProfileStore,
    p: Profile,
    previous: Option<Profile>,
    pending: PendingSecrets,
    keyring: &KeyringOnDemand,
) -> Result<(), String> {
    let name = p.name.clone();
    store.upsert(p).map_err(|e| e.to_string())?;
    store.save().map_err(|e| e.to_string())?;
    for (kind, secret) in &pending {
        let written = keyring
            .store()
            .and_then(|ring| ring.set(&name, *kind, secret).map_err(|e| e.to_string()));
        if let Err(e) = written {
            let restored = match previous {
                Some(old) => store.upsert(old).map(|_| ()),
                None => store.remove(&name).map(|_| ()),
            };
            let rolled_back = restored.is_ok() && store.save().is_ok();
            return Err(if rolled_back {
                format!("{e}; the profile file was left as it was")
            } else {
                format!(
                    "{e}; profile {name:?} was saved but refers to keyring entries that are missing"
                )
            });
        }
    }
    Ok(())
}

/// Renames a profile in `store`, saves, then moves its keyring entries; if they cannot be
/// moved the file is put back under the old name and the error says which state it is in.
pub fn rename_with_secrets(
    store: &mut ProfileStore,
    old: &str,
    new: &str,
    keyring: &KeyringOnDemand,
) -> Result<(), String> {
    let has_secrets = store
        .get(old)
        .is_some_and(|p| !p.keyring_entries().is_empty());
    store.rename(old, new).map_err(|e| e.to_string())?;
    store.save().map_err(|e| e.to_string())?;
    if has_secrets
        && let Err(e) = keyring
            .store()
            .and_then(|ring| ring.move_profile(old, new).map_err(|e| e.to_string()))
    {
        let rolled_back = store.rename(new, old).is_ok() && store.save().is_ok();
        return Err(if rolled_back {
            format!("{e}; the profile keeps its old name {old:?}")
        } else {
            format!(
                "{e}; the profile is now named {new:?} but its keyring entries may still be under {old:?}"
            )
        });
    }
    Ok(())
}

/// Removes a profile (usable or not) from `store`, saves, then deletes its keyring entries
/// unless `keep_secrets`; returns how many entries were deleted. The file comes first so a
/// failed save never leaves a profile whose secrets are gone.
pub fn remove_with_secrets(
    store: &mut ProfileStore,
    name: &str,
    keep_secrets: bool,
    keyring: &KeyringOnDemand,
) -> Result<usize, String> {
    let had_secrets = match store.remove(name) {
        Ok(p) => !p.keyring_entries().is_empty(),
        // What an unusable profile refers to is unknown: whatever is stored under its name.
        Err(_) => store
            .remove_broken(name)
            .map(|_| true)
            .map_err(|e| e.to_string())?,
    };
    store.save().map_err(|e| e.to_string())?;
    if keep_secrets || !had_secrets {
        return Ok(0);
    }
    keyring
        .store()
        .and_then(|ring| ring.delete_profile(name).map_err(|e| e.to_string()))
        .map_err(|e| {
            format!("profile {name:?} was removed, but its keyring entries could not be: {e}")
        })
}

/// The keyring accounts that go with a profile (what a delete removes), e.g. `prod/password`.
pub fn keyring_accounts(p: &Profile) -> Vec<String> {
    let mut kinds: Vec<Kind> = p.keyring_entries().into_iter().map(|(_, k)| k).collect();
    kinds.dedup();
    kinds.into_iter().map(|k| k.account(&p.name)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certs::testutil;

    fn err(field: FormField, value: &str) -> String {
        check_field(field, value).expect_err(value)
    }

    #[test]
    fn each_field_is_checked_on_its_own() {
        assert!(err(FormField::Url, "ftp://broker").contains("scheme `ftp` is not one of mqtt"));
        assert!(err(FormField::Url, "mqtts://broker:99999").contains("invalid port number"));
        assert!(err(FormField::Url, "mqtts://broker:0").contains("port 0"));
        assert!(err(FormField::Url, "").contains("broker URL"));
        check_field(FormField::Url, "mqtts://broker.example.com:8883").unwrap();
        assert!(err(FormField::Name, "has space").contains("letters, digits"));
        assert!(err(FormField::Name, "").contains("needs a name"));
        check_field(FormField::Name, "plant-7.gw_2").unwrap();
        assert!(err(FormField::Topics, "a/#, ,b").contains("cannot be empty"));
        check_field(FormField::Topics, "a/#, b").unwrap();
        assert!(err(FormField::Username, "al\u{1b}[2Jice").contains("control"));
        check_field(FormField::Ca, "").unwrap();
    }

    #[test]
    fn file_fields_read_and_parse_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.pem");
        assert!(err(FormField::Ca, &missing.display().to_string()).contains("no such file"));
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "this is not a certificate\n").unwrap();
        assert!(!err(FormField::Ca, &junk.display().to_string()).is_empty());
        assert!(err(FormField::Ca, &dir.path().display().to_string()).contains("cannot be read"));
        let ca = testutil::make(testutil::Spec::ca("Form CA"), None);
        let ca_path = dir.path().join("ca.pem");
        std::fs::write(&ca_path, testutil::pem(&ca.der, "CERTIFICATE")).unwrap();
        check_field(FormField::Ca, &ca_path.display().to_string()).unwrap();
        // A certificate is not a key, and a key is not a CA.
        assert!(
            err(FormField::ClientKey, &ca_path.display().to_string()).contains("no private key")
        );
        let key_path = dir.path().join("key.pem");
        std::fs::write(
            &key_path,
            testutil::pem(&ca.key.serialize_der(), "PRIVATE KEY"),
        )
        .unwrap();
        check_field(FormField::ClientKey, &key_path.display().to_string()).unwrap();
        assert!(err(FormField::Ca, &key_path.display().to_string()).contains("no certificate"));
    }

    #[test]
    fn a_new_profile_keeps_the_password_for_the_keyring_not_the_file() {
        let mut form = ProfileForm::new_profile();
        form.set(FormField::Name, "plant");
        form.set(FormField::Url, "mqtt://127.0.0.1:1883");
        form.set(FormField::Username, "alice");
        form.set(FormField::Password, "s3cret-canary");
        form.set(FormField::Topics, "a/#, b");
        assert_eq!(form.password_len(), 13);
        assert_eq!(form.value(FormField::Password), "");
        let built = form.build().expect("valid");
        assert_eq!(built.profile.password, Some(SecretSource::Keyring));
        assert_eq!(built.password.as_ref().unwrap().expose(), "s3cret-canary");
        assert_eq!(built.profile.topics, vec!["a/#", "b"]);
        let dir = tempfile::tempdir().unwrap();
        let mut store = ProfileStore::load(dir.path().join("p.toml")).unwrap();
        store.upsert(built.profile).unwrap();
        let text = store.to_toml().unwrap();
        assert!(!text.contains("s3cret-canary"), "{text}");
        assert!(text.contains("password = { keyring = true }"), "{text}");
        assert_eq!(
            keyring_accounts(store.get("plant").unwrap()),
            vec!["plant/password"]
        );
    }

    #[test]
    fn the_whole_form_names_the_field_of_a_cross_field_problem() {
        let dir = tempfile::tempdir().unwrap();
        let ca = testutil::make(testutil::Spec::ca("Form CA"), None);
        let cert = dir.path().join("c.pem");
        std::fs::write(&cert, testutil::pem(&ca.der, "CERTIFICATE")).unwrap();
        let mut form = ProfileForm::new_profile();
        form.set(FormField::Name, "x");
        form.set(FormField::Url, "mqtts://h:8883");
        form.set(FormField::ClientCert, cert.display().to_string());
        let errors = form.build().expect_err("cert without key");
        assert_eq!(errors[0].0, Some(FormField::ClientKey), "{errors:?}");
        assert!(errors[0].1.contains("go together"), "{errors:?}");
        let mut bad = ProfileForm::new_profile();
        bad.set(FormField::Name, "x y");
        bad.set(FormField::Url, "ftp://h");
        let errors = bad.build().expect_err("two bad fields");
        let fields: Vec<_> = errors.iter().map(|e| e.0).collect();
        assert_eq!(fields, vec![Some(FormField::Name), Some(FormField::Url)]);
    }

    #[test]
    fn editing_keeps_what_the_form_does_not_show() {
        let mut p = Profile::new("prod", "mqtts://h:8883");
        p.keep_alive = Some(7);
        p.password = Some(SecretSource::Env("PW".into()));
        p.tls.sni = Some("sni.example".into());
        let mut form = ProfileForm::edit(&p);
        assert!(!form.changed());
        form.set(FormField::Username, "bob");
        assert!(form.changed());
        let built = form.build().unwrap();
        assert_eq!(built.profile.keep_alive, Some(7));
        assert_eq!(built.profile.password, Some(SecretSource::Env("PW".into())));
        assert_eq!(built.profile.tls.sni.as_deref(), Some("sni.example"));
        assert_eq!(built.profile.username.as_deref(), Some("bob"));
        assert!(built.password.is_none());
        // Emptying a field removes it.
        let mut form = ProfileForm::edit(&built.profile);
        form.set(FormField::Username, "");
        assert_eq!(form.build().unwrap().profile.username, None);
    }
}
