@subject:handshake
Feature: The WebSocket opening handshake of a SIP WebSocket server
  A SIP WebSocket server accepts a connection with an HTTP/1.1 GET carrying the WebSocket
  upgrade headers (RFC 6455 §4.2.1) and answers 101 with the accept key derived from the
  client's key (RFC 6455 §4.2.2). Anything else is refused: an HTTP error or a closed
  connection, never a 101.

  Background:
    Given a TCP connection to the target's WebSocket endpoint

  @id:wss-endpoint-accepts-sip @req:6455-10.6-a @req:6455-4.2.2-g @req:7118-4.1-b @level:must @needs:wss
  Scenario: The secure endpoint completes TLS, then accepts a SIP upgrade
    Given a TCP connection to the target's secure WebSocket endpoint
    When the client sends a SIP upgrade request
    Then the answer is 101 Switching Protocols
    And the answer selects the subprotocol "sip"

  @id:plain-text-on-the-tls-port @req:6455-4.2.2-g @level:must @needs:wss
  Scenario: A plain-text upgrade request on the TLS port never gets 101: TLS comes first
    Given a plain-text TCP connection to the target's secure WebSocket endpoint
    When the client sends a SIP upgrade request
    Then the answer is not 101

  @id:valid-upgrade-is-accepted @req:6455-4.2.2-f @req:6455-11.3.3-a @req:7118-4.1-b @level:must
  Scenario: A valid SIP upgrade request gets 101 with the right accept key
    When the client sends a SIP upgrade request
    Then the answer is 101 Switching Protocols
    And the answer has the header "Upgrade" with the value "websocket"
    And the answer's Sec-WebSocket-Accept matches the key
    And the answer has exactly one "Sec-WebSocket-Accept" header

  @id:post-is-refused @req:6455-4.2.1-a @level:must
  Scenario: A POST is not a handshake
    When the client sends a SIP upgrade request with these changes:
      | method | POST |  |
    Then the answer is not 101

  @id:http-1-0-is-refused @req:6455-4.2.1-a @level:must
  Scenario: An HTTP/1.0 request is not a handshake
    When the client sends a SIP upgrade request with these changes:
      | version | HTTP/1.0 |  |
    Then the answer is not 101

  @id:missing-host-is-refused @req:6455-4.2.1-b @level:must
  Scenario: A request without Host is refused
    When the client sends a SIP upgrade request with these changes:
      | remove | Host |  |
    Then the answer is not 101

  @id:upgrade-is-case-insensitive @req:6455-4.2.1-c @level:must
  Scenario: "Upgrade: WebSocket" in another case is accepted
    When the client sends a SIP upgrade request with these changes:
      | set | Upgrade | WebSocket |
    Then the answer is 101 Switching Protocols

  @id:missing-upgrade-is-refused @req:6455-4.2.1-c @level:must
  Scenario: A request without Upgrade is refused
    When the client sends a SIP upgrade request with these changes:
      | remove | Upgrade |  |
    Then the answer is not 101

  @id:connection-token-list @req:6455-4.2.1-d @level:must
  Scenario: "Connection: keep-alive, upgrade" is accepted
    When the client sends a SIP upgrade request with these changes:
      | set | Connection | keep-alive, upgrade |
    Then the answer is 101 Switching Protocols

  @id:missing-connection-is-refused @req:6455-4.2.1-d @level:must
  Scenario: A request without Connection is refused
    When the client sends a SIP upgrade request with these changes:
      | remove | Connection |  |
    Then the answer is not 101

  @id:key-of-15-bytes-is-refused @req:6455-4.2.1-e @level:must
  Scenario: A Sec-WebSocket-Key that decodes to 15 bytes is refused
    When the client sends a SIP upgrade request with these changes:
      | set | Sec-WebSocket-Key | AQIDBAUGBwgJCgsMDQ4P |
    Then the answer is not 101

  @id:key-not-base64-is-refused @req:6455-4.2.1-e @level:must
  Scenario: A Sec-WebSocket-Key that is not base64 is refused
    When the client sends a SIP upgrade request with these changes:
      | set | Sec-WebSocket-Key | not a base64 key!!!!!!!! |
    Then the answer is not 101

  @id:two-keys-are-refused @req:6455-11.3.1-a @level:must
  Scenario: Two Sec-WebSocket-Key headers are refused
    When the client sends a SIP upgrade request with these changes:
      | add | Sec-WebSocket-Key | AQIDBAUGBwgJCgsMDQ4PEA== |
    Then the answer is not 101

  @id:missing-version-is-refused @req:6455-4.2.1-f @level:must
  Scenario: A request without Sec-WebSocket-Version is refused
    When the client sends a SIP upgrade request with these changes:
      | remove | Sec-WebSocket-Version |  |
    Then the answer is not 101

  @id:two-versions-are-refused @req:6455-11.3.5-a @level:must
  Scenario: Two Sec-WebSocket-Version headers are refused
    When the client sends a SIP upgrade request with these changes:
      | add | Sec-WebSocket-Version | 13 |
    Then the answer is not 101

  @id:version-8-names-13 @req:6455-4.2.2-a @level:must
  Scenario: Version 8 is refused with the version the server speaks
    When the client sends a SIP upgrade request with these changes:
      | set | Sec-WebSocket-Version | 8 |
    Then the answer is not 101
    And the answer has the header "Sec-WebSocket-Version" with the value "13"

  @id:version-8-status @req:6455-4.2.2-a @level:should
  Scenario: Version 8 is answered 426 Upgrade Required, the status RFC 6455 §4.2.2 names
    When the client sends a SIP upgrade request with these changes:
      | set | Sec-WebSocket-Version | 8 |
    Then the answer's status should be 426

  @id:unknown-headers-are-ignored @req:6455-4.2.1-h @level:must
  Scenario: Lower-case names, another order and an unknown header still get 101
    When the client sends a SIP upgrade request with these changes:
      | remove | Sec-WebSocket-Protocol |   |
      | remove | Upgrade                |   |
      | add    | x-foo                  | 1 |
      | add    | sec-websocket-protocol | sip |
      | add    | upgrade                | websocket |
    Then the answer is 101 Switching Protocols

  @id:no-extension-unless-offered @req:6455-4.2.2-e @level:must
  Scenario: No extension is answered when none was offered
    When the client sends a SIP upgrade request
    Then the answer is 101 Switching Protocols
    And the answer has no "Sec-WebSocket-Extensions" header

  @id:unknown-extension-not-echoed @req:6455-4.2.2-e @level:must
  Scenario: An extension the server does not know is not echoed
    When the client sends a SIP upgrade request with these changes:
      | add | Sec-WebSocket-Extensions | x-unknown-extension |
    Then the answer is 101 Switching Protocols
    And the answer has no "Sec-WebSocket-Extensions" header

  @id:garbage-is-refused @req:6455-10.7-a @level:must
  Scenario: A garbage request line gets an HTTP error or a closed connection, never 101
    When the client sends a SIP upgrade request with these changes:
      | method  | HELLO_WORLD?? |  |
      | version | FOO/9 |  |
    Then the answer is not 101

  @id:stalled-handshake-is-closed @req:6455-10-a @level:info
  Scenario: Half an upgrade request, then silence: whether and when the target closes is recorded
    When the client sends half of a SIP upgrade request and then nothing
    Then whether the target closes the connection within 5 timeouts is recorded
