//! The `plenary` command line: `serve [--demo]`, `migrate`, `organiser add`, `import FILE...`.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Parser, Subcommand};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use plenary_embedded_pg::EmbeddedPostgres;
use secrecy::{ExposeSecret, SecretString};

use crate::auth::password;
use crate::auth::token::TokenKeys;
use crate::config::Settings;
use crate::db::PoolSettings;
use crate::import::{self, Outcome};
use crate::startup::{Application, Options};
use crate::store::{organisers, reference};

/// Command-line arguments.
#[derive(Debug, Parser)]
#[command(
    name = "plenary",
    version,
    about = "Conference and delegation management API"
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the API (address from BIND_ADDR, database from DATABASE_URL or the embedded one).
    Serve {
        /// Also import the conferences in data/ and create a demo organiser.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending migrations and exit.
    Migrate,
    /// Manage organiser accounts.
    Organiser {
        /// The organiser command.
        #[command(subcommand)]
        command: OrganiserCommand,
    },
    /// Load conference documents (JSON), each file all or nothing.
    Import {
        /// The files to import.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

/// `plenary organiser ...`.
#[derive(Debug, Subcommand)]
pub enum OrganiserCommand {
    /// Create an organiser; the password is read from stdin (one trailing newline stripped).
    Add {
        /// Email (unique regardless of letter case).
        #[arg(long)]
        email: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// Make the organiser an admin.
        #[arg(long)]
        admin: bool,
    },
}

/// The database in use: `DATABASE_URL`, or the embedded cluster (stopped on [`Self::close`]
/// if this process started it).
pub struct Database {
    /// Connection string.
    pub url: String,
    embedded: Option<EmbeddedPostgres>,
}

impl Database {
    /// Opens `DATABASE_URL`, or starts (or reuses) the embedded cluster under `data_dir`.
    pub async fn open(settings: &Settings) -> anyhow::Result<Self> {
        if let Some(url) = &settings.database_url {
            return Ok(Self {
                url: url.clone(),
                embedded: None,
            });
        }
        let dir = settings.data_dir.clone();
        tracing::info!(data_dir = %dir.display(), "DATABASE_URL not set: using the embedded PostgreSQL");
        let pid_file = dir.join("owner.pid");
        let mut pg = tokio::task::spawn_blocking(move || EmbeddedPostgres::start(&dir))
            .await
            .context("starting the embedded PostgreSQL")??;
        // The process that starts the cluster owns it and stops it on exit. A cluster whose
        // owner died (SIGKILL, crash) is adopted, so it does not run on forever.
        let owner_alive = std::fs::read_to_string(&pid_file)
            .ok()
            .and_then(|p| p.trim().parse::<i32>().ok())
            .is_some_and(|pid| {
                pid != std::process::id() as i32
                    && nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok()
            });
        if !pg.started_by_us() && !owner_alive {
            tracing::info!(
                "adopting an embedded PostgreSQL left running by a process that is gone"
            );
            pg.adopt();
        }
        if pg.started_by_us() {
            let _ = std::fs::write(&pid_file, std::process::id().to_string());
        }
        Ok(Self {
            url: pg.connection_string("plenary"),
            embedded: Some(pg),
        })
    }

    /// True when this is the embedded cluster.
    pub fn is_embedded(&self) -> bool {
        self.embedded.is_some()
    }

    /// Stops the embedded cluster if this process started it.
    pub async fn close(self) {
        if let Some(mut pg) = self.embedded {
            let _ = tokio::task::spawn_blocking(move || {
                if let Err(e) = pg.stop() {
                    tracing::warn!(error = %e, "stopping the embedded PostgreSQL");
                }
            })
            .await;
        }
    }
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::from_env()?;
    if let Command::Serve { demo } = &cli.command {
        // Refuse a missing or short secret before starting any database.
        match &settings.jwt_secret {
            Some(secret) => {
                TokenKeys::new(secret.expose_secret().as_bytes())
                    .map_err(|e| anyhow::anyhow!(e))?;
            }
            None if *demo && settings.database_url.is_none() => {}
            None => anyhow::bail!(MISSING_SECRET),
        }
    }
    let database = Database::open(&settings).await?;
    let result = dispatch(cli.command, &settings, &database).await;
    database.close().await;
    result
}

async fn dispatch(
    command: Command,
    settings: &Settings,
    database: &Database,
) -> anyhow::Result<()> {
    match command {
        Command::Migrate => {
            reference::migrate(&database.url).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Organiser {
            command: OrganiserCommand::Add { email, name, admin },
        } => {
            let mut input = String::new();
            std::io::stdin()
                .read_to_string(&mut input)
                .context("reading the password from stdin")?;
            let secret = SecretString::from(strip_one_newline(&input).to_string());
            let done = add_organiser(&database.url, &email, &name, admin, secret).await?;
            println!("{done}");
            Ok(())
        }
        Command::Import { files } => {
            reference::migrate(&database.url).await?;
            import_files(&database.url, &files, None).await
        }
        Command::Serve { demo } => serve(settings, database, demo).await,
    }
}

/// Strips one trailing `\n` (or `\r\n`) from a password read from stdin.
pub fn strip_one_newline(s: &str) -> &str {
    s.strip_suffix("\r\n")
        .or_else(|| s.strip_suffix('\n'))
        .unwrap_or(s)
}

/// `plenary organiser add`: creates the organiser account `email` (`name`, `--admin`) with
/// the password given, or, when an account already has the email (any letter case, e.g. a
/// focal point's), makes that account an organiser (and an admin with `admin`) with a
/// verified address, keeping its name. An existing account keeps its password and sessions
/// when it had proven its address; an unverified one (made from an invitation code handed
/// out in an API response) gets the password given and its tokens end, since whoever made
/// it may not own the address. Answers the line to print.
///
/// Errors: a password under 12 characters, an invalid email (the API's check, mixed
/// scripts included) or name, database errors.
pub async fn add_organiser(
    url: &str,
    email: &str,
    name: &str,
    admin: bool,
    secret: SecretString,
) -> anyhow::Result<String> {
    password::check_strength(&secret).map_err(|e| anyhow::anyhow!(e))?;
    let email = email.trim();
    let name = name.trim();
    if let Err(message) = crate::domain::input::check_email(email) {
        anyhow::bail!("--email {message}");
    }
    if name.is_empty() || name.chars().count() > 300 {
        anyhow::bail!("--name must be 1 to 300 characters");
    }
    reference::migrate(url).await?;
    let hash = password::hash_blocking(secret).await?;
    let mut conn = AsyncPgConnection::establish(url).await?;
    let admin_note = |is_admin: bool| if is_admin { ", admin" } else { "" };
    if let Some(p) = organisers::make_organiser(&mut conn, email, &hash, admin).await? {
        let what = if p.password_replaced {
            "its address was unproven: password set to the one given, its sessions ended"
        } else {
            "its password and sessions are unchanged (the password given was not used)"
        };
        return Ok(format!(
            "existing account {} ({}{}) made an organiser; {what}",
            p.row.id,
            p.row.email,
            admin_note(p.row.is_admin)
        ));
    }
    match organisers::create(&mut conn, email, name, &hash, admin, true).await {
        Ok(o) => Ok(format!(
            "organiser {} created ({}{})",
            o.id,
            o.email,
            admin_note(o.is_admin)
        )),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => anyhow::bail!("an account with email {email} was created meanwhile; run again"),
        Err(e) => Err(e.into()),
    }
}

async fn import_files(
    url: &str,
    files: &[PathBuf],
    owner: Option<uuid::Uuid>,
) -> anyhow::Result<()> {
    let mut conn = AsyncPgConnection::establish(url).await?;
    let countries = reference::country_index(&mut conn).await?;
    let mut failed = 0;
    for file in files {
        match import::import_file(&mut conn, &countries, file, owner).await {
            Ok(Outcome::Created { id, delegations }) => {
                println!(
                    "{}: created conference {id} with {delegations} delegations",
                    file.display()
                )
            }
            Ok(Outcome::Updated { id, delegations }) => {
                println!(
                    "{}: updated conference {id} ({delegations} delegations)",
                    file.display()
                )
            }
            Ok(Outcome::Unchanged { id }) => {
                println!("{}: conference {id} unchanged", file.display())
            }
            Err(e) => {
                failed += 1;
                eprintln!("{}: {e:#}", file.display());
            }
        }
    }
    if failed > 0 {
        anyhow::bail!("{failed} of {} files failed to import", files.len());
    }
    Ok(())
}

/// The JWT secret: `PLENARY_JWT_SECRET`, or for `--demo` on the embedded database one
/// generated once and kept in the data folder.
fn jwt_secret(
    settings: &Settings,
    database: &Database,
    demo: bool,
) -> anyhow::Result<SecretString> {
    if let Some(secret) = &settings.jwt_secret {
        return Ok(secret.clone());
    }
    if !(demo && database.is_embedded()) {
        anyhow::bail!(MISSING_SECRET);
    }
    let path = settings.data_dir.join("jwt-secret");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        if existing.trim().len() >= 32 {
            return Ok(SecretString::from(existing.trim().to_string()));
        }
    }
    let secret = random_hex(32);
    write_private(&path, &secret)?;
    Ok(SecretString::from(secret))
}

fn random_hex(bytes: usize) -> String {
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    hex::encode(buf)
}

fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(contents.as_bytes())?;
    Ok(())
}

const MISSING_SECRET: &str = "PLENARY_JWT_SECRET is not set: set it to a random string of at \
     least 32 bytes (e.g. `openssl rand -hex 32`); only `serve --demo` on the embedded database \
     generates one";

/// The demo organiser's email.
pub const DEMO_EMAIL: &str = "demo@plenary.example";

async fn serve(settings: &Settings, database: &Database, demo: bool) -> anyhow::Result<()> {
    crate::portal::view::choose_language(&settings.portal_language).map_err(anyhow::Error::msg)?;
    let secret = jwt_secret(settings, database, demo)?;
    let tokens =
        TokenKeys::new(secret.expose_secret().as_bytes()).map_err(|e| anyhow::anyhow!(e))?;
    reference::migrate(&database.url).await?;
    if demo {
        let password = random_hex(12);
        let hash = password::hash_blocking(SecretString::from(password.clone())).await?;
        let mut conn = AsyncPgConnection::establish(&database.url).await?;
        let organiser = match organisers::reset_password(&mut conn, DEMO_EMAIL, &hash).await? {
            Some(o) => o,
            None => {
                organisers::create(&mut conn, DEMO_EMAIL, "Demo organiser", &hash, true, true)
                    .await?
            }
        };
        drop(conn);
        let files = import::documents_in(&settings.demo_data)?;
        import_files(&database.url, &files, Some(organiser.id)).await?;
        println!("demo organiser: email {DEMO_EMAIL} password {password}");
    }
    let options = Options {
        tokens,
        pool: PoolSettings {
            max_size: settings.pool_size,
            timeout: settings.db_timeout,
        },
        workers: settings.workers,
        login_limits: settings.login_limits,
        trusted_proxies: settings.trusted_proxies.clone(),
        cors_origins: settings.cors_origins.clone(),
        body_timeout: settings.body_timeout,
        invitation_ttl_days: settings.invitation_ttl_days,
        public_reads: settings.public_reads.clone(),
        body_budget: settings.body_budget,
        notify: settings.notify.clone(),
        mail_dir: settings.data_dir.join("mail"),
    };
    let app = Application::build(&database.url, &settings.bind_addr, options).await?;
    if settings.notify.smtp_url.is_none() {
        println!(
            "e-mail: PLENARY_SMTP_URL is not set, so e-mails are written as .eml files to {}",
            settings.data_dir.join("mail").display()
        );
    }
    println!(
        "plenary listening on http://{}",
        display_addr(&settings.bind_addr, app.port())
    );
    app.run().await?;
    Ok(())
}

fn display_addr(bind: &str, port: u16) -> String {
    match bind.rsplit_once(':') {
        Some((host, _)) => format!("{host}:{port}"),
        None => format!("{bind}:{port}"),
    }
}
