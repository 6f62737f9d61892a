use auth_core::{outcome::LoginOutcome, UnixTime};
use diesel::prelude::*;

use crate::{
    error::corrupt,
    records::{LoginEventRecord, NewLoginEvent, Page},
    schema::login_events as le,
    StoreError, Tx,
};

#[derive(Queryable, Selectable)]
#[diesel(table_name = le)]
struct LoginEventRow {
    id: i64,
    outcome: String,
    client: Option<String>,
    ip: Option<String>,
    user_agent: Option<String>,
    created_at: i64,
    authenticator_id: Option<String>,
    authenticator_name: Option<String>,
}

impl TryFrom<LoginEventRow> for LoginEventRecord {
    type Error = StoreError;
    fn try_from(r: LoginEventRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: r.id,
            outcome: r.outcome.parse().map_err(corrupt)?,
            client: r.client.map(|c| c.parse()).transpose().map_err(corrupt)?,
            ip: r.ip,
            user_agent: r.user_agent,
            at: UnixTime::from_millis(r.created_at),
            authenticator: r.authenticator_id.map(|id| {
                auth_core::authenticators::AuthenticatorRef {
                    id: auth_core::ids::FactorId::from_stored(id),
                    name: r.authenticator_name.unwrap_or_default(),
                }
            }),
        })
    }
}

impl Tx<'_> {
    pub fn insert_login_event(&mut self, e: &NewLoginEvent) -> Result<(), StoreError> {
        diesel::insert_into(le::table)
            .values((
                le::user_id.eq(e.user_id.as_ref().map(auth_core::ids::UserId::as_str)),
                le::organization_id.eq(e
                    .organization_id
                    .as_ref()
                    .map(auth_core::ids::OrganizationId::as_str)),
                le::outcome.eq(e.outcome.as_str()),
                le::client.eq(e.client.map(auth_core::identity::ClientKind::as_str)),
                le::ip.eq(&e.origin.ip),
                le::user_agent.eq(&e.origin.user_agent),
                le::created_at.eq(e.at.as_millis()),
                le::ip_group.eq(&e.origin.ip_group),
                le::authenticator_id.eq(e.authenticator.as_ref().map(|a| a.id.as_str())),
                le::authenticator_name.eq(e.authenticator.as_ref().map(|a| a.name.as_str())),
            ))
            .execute(self.conn)?;
        Ok(())
    }

    /// A user's attempts, newest first, older than `before` when given.
    pub fn login_history(
        &mut self,
        user_id: &auth_core::ids::UserId,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Page<LoginEventRecord>, StoreError> {
        let mut q = le::table
            .filter(le::user_id.eq(user_id.as_str().to_owned()))
            .order(le::id.desc())
            .limit(limit + 1)
            .select(LoginEventRow::as_select())
            .into_boxed();
        if let Some(b) = before {
            q = q.filter(le::id.lt(b));
        }
        let rows = q.load(self.conn)?;
        page(rows, limit, |r: &LoginEventRecord| r.id)
    }

    /// When the user last signed in (a token was issued, with a code or a
    /// recovery code or without a second factor); served by the
    /// (user_id, outcome, created_at) index.
    pub fn last_login_at(
        &mut self,
        user_id: &auth_core::ids::UserId,
    ) -> Result<Option<UnixTime>, StoreError> {
        let at: Option<i64> = le::table
            .filter(le::user_id.eq(user_id.as_str().to_owned()))
            // OR, not `eq_any`: diesel prepares an `IN (…)` query anew on
            // every call (see `sign_in_familiarity`).
            .filter(
                le::outcome
                    .eq("success")
                    .or(le::outcome.eq("recovery_code"))
                    .or(le::outcome.eq("remembered_device")),
            )
            .select(diesel::dsl::max(le::created_at))
            .first(self.conn)?;
        Ok(at.map(UnixTime::from_millis))
    }
}

/// Whether an account was signed in to before, and before from this client
/// and address: what decides a "new sign-in" notice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignInFamiliarity {
    /// Any earlier login that issued tokens.
    pub signed_in_before: bool,
    /// An earlier one from the same client kind and address group.
    pub from_here_before: bool,
}

impl Tx<'_> {
    /// One statement, both answers from indexes: `(user_id, outcome, …)`
    /// and `(user_id, client, ip_group)`. Call it before the current login
    /// is written.
    ///
    /// It runs on every code step, so it must stay a statement SQLite
    /// prepares once per connection: the two outcomes are spelled as
    /// `outcome = ? OR outcome = ?`, never `eq_any` (diesel builds and
    /// prepares an `IN (…)` statement again on every run, which cost this
    /// lookup ~275 k instructions per code step instead of ~25 k; SQLite
    /// plans both spellings alike).
    pub fn sign_in_familiarity(
        &mut self,
        user_id: &auth_core::ids::UserId,
        client: auth_core::identity::ClientKind,
        ip_group: &str,
    ) -> Result<SignInFamiliarity, StoreError> {
        let issued = || {
            le::outcome
                .eq(LoginOutcome::Success.as_str())
                .or(le::outcome.eq(LoginOutcome::RecoveryCode.as_str()))
        };
        let uid = user_id.as_str();
        let any = le::table
            .filter(le::user_id.eq(uid))
            .filter(issued())
            .select(le::id);
        let here = le::table
            .filter(le::user_id.eq(uid))
            .filter(le::client.eq(client.as_str()))
            .filter(le::ip_group.eq(ip_group))
            .filter(issued())
            .select(le::id);
        let (signed_in_before, from_here_before) =
            diesel::select((diesel::dsl::exists(any), diesel::dsl::exists(here)))
                .get_result::<(bool, bool)>(self.conn)?;
        Ok(SignInFamiliarity {
            signed_in_before,
            from_here_before,
        })
    }
}

/// Cuts one extra row off to learn whether another page follows.
pub(crate) fn page<R, T>(
    mut rows: Vec<R>,
    limit: i64,
    id: impl Fn(&T) -> i64,
) -> Result<Page<T>, StoreError>
where
    T: TryFrom<R, Error = StoreError>,
{
    let more = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(0));
    let items: Vec<T> = rows
        .into_iter()
        .map(T::try_from)
        .collect::<Result<_, _>>()?;
    let next_before = if more { items.last().map(id) } else { None };
    Ok(Page { items, next_before })
}

impl Tx<'_> {
    /// Recent password failures, for the password-stage limits.
    pub fn password_failures(
        &mut self,
        user_id: Option<&auth_core::ids::UserId>,
        ip_group: Option<&str>,
        since: UnixTime,
        familiar_since: UnixTime,
    ) -> Result<auth_core::throttle::PasswordFailures, StoreError> {
        let mut f = auth_core::throttle::PasswordFailures::default();
        if let Some(group) = ip_group {
            let n: i64 = le::table
                .filter(le::ip_group.eq(group))
                .filter(
                    le::outcome
                        .eq("wrong_password")
                        .or(le::outcome.eq("unknown_account")),
                )
                .filter(le::created_at.gt(since.as_millis()))
                .count()
                .get_result(self.conn)?;
            f.address = u32::try_from(n).unwrap_or(u32::MAX);
        }
        if let Some(user_id) = user_id.map(auth_core::ids::UserId::as_str) {
            let familiar: Vec<Option<String>> = le::table
                .filter(le::user_id.eq(user_id))
                .filter(
                    le::outcome
                        .eq("success")
                        .or(le::outcome.eq("otp_required"))
                        .or(le::outcome.eq("enrollment_required"))
                        .or(le::outcome.eq("remembered_device")),
                )
                .filter(le::created_at.gt(familiar_since.as_millis()))
                .filter(le::ip_group.is_not_null())
                .select(le::ip_group)
                .distinct()
                .limit(200)
                .load(self.conn)?;
            let failures: Vec<Option<String>> = le::table
                .filter(le::user_id.eq(user_id))
                .filter(le::outcome.eq("wrong_password"))
                .filter(le::created_at.gt(since.as_millis()))
                .select(le::ip_group)
                .limit(5000)
                .load(self.conn)?;
            f.address_is_familiar =
                ip_group.is_some_and(|g| familiar.iter().any(|a| a.as_deref() == Some(g)));
            for failure_group in &failures {
                if ip_group.is_some() && failure_group.as_deref() == ip_group {
                    f.account_from_address += 1;
                }
                if !familiar.contains(failure_group) {
                    f.account_unfamiliar += 1;
                }
            }
        }
        Ok(f)
    }
}
