use auth_core::{
    ids::{SessionId, UserId},
    opaque_token::{OpaqueToken, TokenHash},
    UnixTime,
};
use diesel::prelude::*;

use crate::{
    authenticators::status_of_states,
    error::corrupt,
    organizations::OrganizationRow,
    records::Principal,
    records::{NewSession, SessionRecord, UserRecord},
    schema::{
        authenticators, organizations, recovery_codes, refresh_grace, rotated_refresh_tokens,
        sessions, users,
    },
    users::UserRow,
    StoreError, Tx,
};

#[derive(Queryable, Selectable)]
#[diesel(table_name = sessions)]
struct SessionRow {
    id: String,
    user_id: String,
    client: String,
    amr: String,
    ip: Option<String>,
    user_agent: Option<String>,
    created_at: i64,
    last_used_at: i64,
    expires_at: i64,
}

impl TryFrom<SessionRow> for SessionRecord {
    type Error = StoreError;
    fn try_from(r: SessionRow) -> Result<Self, StoreError> {
        Ok(Self {
            client: r.client.parse().map_err(corrupt)?,
            amr: r
                .amr
                .split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            id: SessionId::from_stored(r.id),
            user_id: UserId::from_stored(r.user_id),
            ip: r.ip,
            user_agent: r.user_agent,
            created_at: UnixTime::from_millis(r.created_at),
            last_used_at: UnixTime::from_millis(r.last_used_at),
            expires_at: UnixTime::from_millis(r.expires_at),
        })
    }
}

/// What presenting a refresh token came to.
#[derive(Debug)]
pub enum Rotation {
    Rotated(SessionRecord),
    /// The token just rotated away from, presented again within the grace
    /// (a retried request, two tabs at once): the same successor again.
    Repeated {
        session: SessionRecord,
        successor: OpaqueToken,
    },
    /// An already-rotated token outside the grace: the session was revoked.
    Reused {
        session_id: SessionId,
    },
    /// The current token of a session that has ended (logged out, revoked,
    /// expired).
    Ended {
        session_id: SessionId,
    },
    Unknown,
}

impl Tx<'_> {
    pub fn insert_session(&mut self, s: &NewSession) -> Result<(), StoreError> {
        diesel::insert_into(sessions::table)
            .values((
                sessions::id.eq(s.id.as_str()),
                sessions::user_id.eq(s.user_id.as_str()),
                sessions::refresh_token_hash.eq(s.refresh_token_hash.as_str()),
                sessions::client.eq(s.client.as_str()),
                sessions::amr.eq(s.amr.join(" ")),
                sessions::ip.eq(&s.ip),
                sessions::user_agent.eq(&s.user_agent),
                sessions::created_at.eq(s.created_at.as_millis()),
                sessions::last_used_at.eq(s.created_at.as_millis()),
                sessions::expires_at.eq(s.expires_at.as_millis()),
            ))
            .execute(self.conn)?;
        Ok(())
    }

    /// Everything a request bearing an access token needs, in one indexed
    /// query: the live session, its enabled user, the organization, the 2FA
    /// state and the unused recovery codes. A revoked or expired session, or
    /// a disabled user, yields nothing.
    pub fn principal(
        &mut self,
        session_id: &SessionId,
        now: UnixTime,
    ) -> Result<Option<Principal>, StoreError> {
        // A typed subquery (not an SQL literal), so the statement is
        // prepared once and cached.
        let remaining = recovery_codes::table
            .filter(recovery_codes::user_id.eq(users::id))
            .filter(recovery_codes::used_at.is_null())
            .count()
            .single_value();
        // The greatest state wins: `enabled` sorts after `pending`.
        let state = authenticators::table
            .filter(authenticators::user_id.eq(users::id))
            .select(diesel::dsl::max(authenticators::state))
            .single_value();
        let row = sessions::table
            .inner_join(users::table.inner_join(organizations::table))
            .filter(sessions::id.eq(session_id.as_str()))
            .filter(sessions::revoked_at.is_null())
            .filter(sessions::expires_at.gt(now.as_millis()))
            .filter(users::disabled.eq(false))
            .select((
                SessionRow::as_select(),
                UserRow::as_select(),
                OrganizationRow::as_select(),
                state,
                remaining,
            ))
            .get_result::<(
                SessionRow,
                UserRow,
                OrganizationRow,
                Option<String>,
                Option<i64>,
            )>(self.conn)
            .optional()?;
        row.map(|(s, u, o, state, remaining)| {
            Ok(Principal {
                session: s.try_into()?,
                user: u.try_into()?,
                organization: o.try_into()?,
                // `max(state)`: `enabled` sorts after `pending`, so the greatest
                // state is the one that counts.
                two_factor: status_of_states(state.as_deref())?,
                recovery_codes_remaining: remaining.unwrap_or(0),
            })
        })
        .transpose()
    }

    /// Swaps a live session's refresh token for a new one (rotation). The
    /// old token stops working in the same statement and is remembered: a
    /// token presented again after rotation means it leaked, and the whole
    /// session is revoked (OAuth 2.0 Security BCP, reuse detection) —
    /// unless it is the token rotated away from last, presented again after
    /// `grace_since`: then the same successor is returned (sealed at rest
    /// for that purpose), so a retried request does not end the session.
    pub fn rotate_refresh_token(
        &mut self,
        presented: &TokenHash,
        replacement: &OpaqueToken,
        grace_since: UnixTime,
        now: UnixTime,
    ) -> Result<Rotation, StoreError> {
        let current = sessions::table
            .filter(sessions::refresh_token_hash.eq(presented.as_str()))
            .filter(sessions::revoked_at.is_null())
            .filter(sessions::expires_at.gt(now.as_millis()))
            .select(sessions::id)
            .get_result::<String>(self.conn)
            .optional()?;
        let Some(session_id) = current else {
            return self.not_current(presented, grace_since, now);
        };
        let n = diesel::update(
            sessions::table
                .find(&session_id)
                .filter(sessions::refresh_token_hash.eq(presented.as_str()))
                .filter(sessions::revoked_at.is_null()),
        )
        .set((
            sessions::refresh_token_hash.eq(replacement.hash().as_str()),
            sessions::last_used_at.eq(now.as_millis()),
        ))
        .execute(self.conn)?;
        if n != 1 {
            return Ok(Rotation::Unknown);
        }
        diesel::insert_into(rotated_refresh_tokens::table)
            .values((
                rotated_refresh_tokens::token_hash.eq(presented.as_str()),
                rotated_refresh_tokens::session_id.eq(&session_id),
                rotated_refresh_tokens::rotated_at.eq(now.as_millis()),
            ))
            .execute(self.conn)?;
        let sealed = self
            .secrets
            .seal(replacement.expose().as_bytes(), &session_id)?;
        diesel::delete(refresh_grace::table.find(&session_id)).execute(self.conn)?;
        diesel::insert_into(refresh_grace::table)
            .values((
                refresh_grace::session_id.eq(&session_id),
                refresh_grace::predecessor_hash.eq(presented.as_str()),
                refresh_grace::successor_sealed.eq(sealed),
                refresh_grace::rotated_at.eq(now.as_millis()),
            ))
            .execute(self.conn)?;
        let session = sessions::table
            .find(&session_id)
            .select(SessionRow::as_select())
            .get_result(self.conn)?
            .try_into()?;
        Ok(Rotation::Rotated(session))
    }

    /// A presented refresh token that is not a live session's current one.
    /// Whether a presented refresh token was ever issued (current or
    /// rotated away): one read, so that junk is refused without taking the
    /// write lock `rotate_refresh_token` needs.
    pub fn refresh_token_known(&mut self, presented: &TokenHash) -> Result<bool, StoreError> {
        let current = sessions::table.filter(sessions::refresh_token_hash.eq(presented.as_str()));
        let rotated = rotated_refresh_tokens::table.find(presented.as_str());
        let (current, rotated) =
            diesel::select((diesel::dsl::exists(current), diesel::dsl::exists(rotated)))
                .get_result::<(bool, bool)>(self.conn)?;
        Ok(current || rotated)
    }

    fn not_current(
        &mut self,
        presented: &TokenHash,
        grace_since: UnixTime,
        now: UnixTime,
    ) -> Result<Rotation, StoreError> {
        let ended = sessions::table
            .filter(sessions::refresh_token_hash.eq(presented.as_str()))
            .select(sessions::id)
            .get_result::<String>(self.conn)
            .optional()?;
        if let Some(id) = ended {
            return Ok(Rotation::Ended {
                session_id: SessionId::from_stored(id),
            });
        }
        let reused = rotated_refresh_tokens::table
            .find(presented.as_str())
            .select(rotated_refresh_tokens::session_id)
            .get_result::<String>(self.conn)
            .optional()?;
        let Some(session_id) = reused.map(SessionId::from_stored) else {
            return Ok(Rotation::Unknown);
        };
        let repeated = refresh_grace::table
            .inner_join(sessions::table)
            .filter(refresh_grace::session_id.eq(session_id.as_str()))
            .filter(refresh_grace::predecessor_hash.eq(presented.as_str()))
            .filter(refresh_grace::rotated_at.gt(grace_since.as_millis()))
            .filter(sessions::revoked_at.is_null())
            .filter(sessions::expires_at.gt(now.as_millis()))
            .select((refresh_grace::successor_sealed, SessionRow::as_select()))
            .get_result::<(Vec<u8>, SessionRow)>(self.conn)
            .optional()?;
        if let Some((sealed, session)) = repeated {
            let plain = self.secrets.open(&sealed, session_id.as_str())?;
            let successor = String::from_utf8(plain).map_err(corrupt)?;
            return Ok(Rotation::Repeated {
                session: session.try_into()?,
                successor: OpaqueToken::from_secret(successor),
            });
        }
        self.revoke_session(&session_id, now)?;
        Ok(Rotation::Reused { session_id })
    }

    /// The live session whose current refresh token this is.
    pub fn session_by_refresh_token(
        &mut self,
        presented: &TokenHash,
        now: UnixTime,
    ) -> Result<Option<SessionRecord>, StoreError> {
        sessions::table
            .filter(sessions::refresh_token_hash.eq(presented.as_str()))
            .filter(sessions::revoked_at.is_null())
            .filter(sessions::expires_at.gt(now.as_millis()))
            .select(SessionRow::as_select())
            .get_result(self.conn)
            .optional()?
            .map(SessionRecord::try_from)
            .transpose()
    }

    /// The session a refresh token belongs or belonged to, current or
    /// rotated away from, live or not.
    pub fn session_of_refresh_token(
        &mut self,
        presented: &TokenHash,
    ) -> Result<Option<SessionId>, StoreError> {
        let current = sessions::table
            .filter(sessions::refresh_token_hash.eq(presented.as_str()))
            .select(sessions::id)
            .get_result::<String>(self.conn)
            .optional()?;
        let id = match current {
            Some(id) => Some(id),
            None => rotated_refresh_tokens::table
                .find(presented.as_str())
                .select(rotated_refresh_tokens::session_id)
                .get_result::<String>(self.conn)
                .optional()?,
        };
        Ok(id.map(SessionId::from_stored))
    }

    /// A user's live sessions, most recently used first.
    pub fn user_sessions(
        &mut self,
        user_id: &UserId,
        now: UnixTime,
    ) -> Result<Vec<SessionRecord>, StoreError> {
        sessions::table
            .filter(sessions::user_id.eq(user_id.as_str()))
            .filter(sessions::revoked_at.is_null())
            .filter(sessions::expires_at.gt(now.as_millis()))
            .order((sessions::last_used_at.desc(), sessions::id.asc()))
            .select(SessionRow::as_select())
            .load(self.conn)?
            .into_iter()
            .map(SessionRecord::try_from)
            .collect()
    }

    /// Ends one of the user's own sessions; false if it is not theirs or
    /// already ended.
    pub fn revoke_own_session(
        &mut self,
        user_id: &UserId,
        session_id: &SessionId,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        let n = diesel::update(
            sessions::table
                .find(session_id.as_str())
                .filter(sessions::user_id.eq(user_id.as_str()))
                .filter(sessions::revoked_at.is_null()),
        )
        .set(sessions::revoked_at.eq(now.as_millis()))
        .execute(self.conn)?;
        Ok(n == 1)
    }

    pub fn revoke_session(
        &mut self,
        session_id: &SessionId,
        now: UnixTime,
    ) -> Result<bool, StoreError> {
        let n = diesel::update(
            sessions::table
                .find(session_id.as_str())
                .filter(sessions::revoked_at.is_null()),
        )
        .set(sessions::revoked_at.eq(now.as_millis()))
        .execute(self.conn)?;
        Ok(n == 1)
    }

    /// Ends every session of a user but `keep` (the one making the change,
    /// if any); returns how many were live.
    pub fn revoke_user_sessions(
        &mut self,
        user_id: &UserId,
        keep: Option<&SessionId>,
        now: UnixTime,
    ) -> Result<usize, StoreError> {
        // No id is empty, so `id <> ''` keeps every session.
        let keep = keep.map_or("", SessionId::as_str);
        Ok(diesel::update(
            sessions::table
                .filter(sessions::user_id.eq(user_id.as_str()))
                .filter(sessions::id.ne(keep))
                .filter(sessions::revoked_at.is_null()),
        )
        .set(sessions::revoked_at.eq(now.as_millis()))
        .execute(self.conn)?)
    }

    /// Ends the user's sessions that never proved a second factor (a code
    /// or a remembered device; a new
    /// requirement must not outlive them; those that did prove one still
    /// meet it); returns how many were live.
    pub fn revoke_password_only_sessions(
        &mut self,
        user_id: &UserId,
        except: Option<&SessionId>,
        now: UnixTime,
    ) -> Result<usize, StoreError> {
        Ok(diesel::update(
            sessions::table
                .filter(sessions::user_id.eq(user_id.as_str()))
                .filter(sessions::id.ne(except.map_or("", SessionId::as_str)))
                .filter(sessions::amr.not_like("%otp%"))
                .filter(sessions::amr.not_like("%device%"))
                .filter(sessions::revoked_at.is_null()),
        )
        .set(sessions::revoked_at.eq(now.as_millis()))
        .execute(self.conn)?)
    }

    /// Records that a session has now proven more factors.
    pub fn set_session_amr(
        &mut self,
        session_id: &SessionId,
        amr: &[&str],
    ) -> Result<(), StoreError> {
        diesel::update(sessions::table.find(session_id.as_str()))
            .set(sessions::amr.eq(amr.join(" ")))
            .execute(self.conn)?;
        Ok(())
    }
}

impl Tx<'_> {
    /// The organization's enabled users who hold a live session that never
    /// proved a second factor (what `revoke_password_only_sessions` ends):
    /// the ones a stricter two-factor rule may have to sign out.
    pub fn users_with_password_only_sessions(
        &mut self,
        organization_id: &auth_core::ids::OrganizationId,
        now: UnixTime,
    ) -> Result<Vec<UserRecord>, StoreError> {
        sessions::table
            .inner_join(users::table)
            .filter(users::organization_id.eq(organization_id.as_str()))
            .filter(users::disabled.eq(false))
            .filter(sessions::amr.not_like("%otp%"))
            .filter(sessions::amr.not_like("%device%"))
            .filter(sessions::revoked_at.is_null())
            .filter(sessions::expires_at.gt(now.as_millis()))
            .select(UserRow::as_select())
            .distinct()
            .load(self.conn)?
            .into_iter()
            .map(UserRecord::try_from)
            .collect()
    }

    /// A session (live or not) and its user.
    pub fn session_owner(
        &mut self,
        session_id: &SessionId,
    ) -> Result<Option<(SessionRecord, UserRecord)>, StoreError> {
        let row = sessions::table
            .inner_join(users::table)
            .filter(sessions::id.eq(session_id.as_str()))
            .select((SessionRow::as_select(), UserRow::as_select()))
            .get_result::<(SessionRow, UserRow)>(self.conn)
            .optional()?;
        row.map(|(s, u)| Ok((s.try_into()?, u.try_into()?)))
            .transpose()
    }
}
