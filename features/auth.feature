@subject:auth
Feature: SIP digest authentication at the registrar
  A target that demands SIP authentication (RFC 7118 §7 allows it) challenges a REGISTER
  without credentials with a Digest challenge (RFC 3261 §22), offers SHA-256 besides MD5
  (RFC 8760), accepts the credentials of a known user, refuses a wrong password, and does not
  let one user register another user's address-of-record (RFC 3261 §10.3 step 4). These cases
  need the credentials of one user of the target (profile `auth_user` / `auth_password`);
  without them they are skipped. The embedded run tests a second reference server with
  authentication on.

  @id:register-is-challenged @req:3261-22.1-a @req:7118-7-f @level:must @needs:auth
  Scenario: A REGISTER without credentials gets a 401 (or 407) carrying a Digest challenge
    Given an open SIP WebSocket connection "alice"
    When "alice" sends a REGISTER for the profile's user without credentials
    Then "alice" receives a Digest challenge

  @id:challenge-offers-sha-256 @req:8760-2.4-a @level:should @needs:auth
  Scenario: The challenge offers SHA-256, not only MD5
    Given an open SIP WebSocket connection "alice"
    When "alice" sends a REGISTER for the profile's user without credentials
    Then "alice" receives a Digest challenge
    And the challenge offers SHA-256

  @id:register-with-credentials @req:3261-22.4-a @level:must @needs:auth
  Scenario: The REGISTER re-sent with the user's credentials is accepted
    Given an open SIP WebSocket connection "alice"
    When "alice" sends a REGISTER for the profile's user without credentials
    Then "alice" receives a Digest challenge
    When "alice" answers the challenge with the profile's credentials
    Then "alice" receives a response with status 200

  @id:wrong-password-refused @req:3261-22.4-a @level:must @needs:auth
  Scenario: A REGISTER with a wrong password is refused, preferably with a new challenge
    Given an open SIP WebSocket connection "alice"
    When "alice" sends a REGISTER for the profile's user without credentials
    Then "alice" receives a Digest challenge
    When "alice" answers the challenge with a wrong password
    Then "alice" receives an error response, preferably 401 or 407

  @id:other-users-aor-forbidden @req:3261-10.3-e @level:should @needs:auth
  Scenario: One user's valid credentials do not register another user's address-of-record
    Given an open SIP WebSocket connection "alice"
    When "alice" sends a REGISTER for another user's AoR without credentials
    Then "alice" receives a Digest challenge
    When "alice" answers the challenge with the profile's credentials
    Then "alice" receives an error response, preferably 403
