@subject:subprotocol
Feature: Negotiating the sip subprotocol
  A SIP WebSocket server chooses the subprotocol "sip" and names it in its 101 (RFC 7118 §4.1),
  only when the client offered exactly that token: tokens match case-sensitively (RFC 7936 §2)
  and a server never answers with a token the client did not offer (RFC 6455 §4.2.2). A
  handshake that does not offer "sip" cannot become a SIP connection, so it is refused.

  Background:
    Given a TCP connection to the target's WebSocket endpoint

  @id:sip-alone @req:7118-4.1-b @req:6455-4.2.2-d @level:must
  Scenario: Offering sip alone gets sip
    When the client sends a SIP upgrade request
    Then the answer is 101 Switching Protocols
    And the answer selects the subprotocol "sip"

  @id:sip-after-foo @req:7118-4.1-b @req:6455-4.2.2-d @level:must
  Scenario: Offering "foo, sip" gets sip, never foo
    When the client sends a SIP upgrade request with these changes:
      | set | Sec-WebSocket-Protocol | foo, sip |
    Then the answer is 101 Switching Protocols
    And the answer selects the subprotocol "sip"

  @id:sip-before-foo @req:7118-4.1-b @req:6455-4.2.2-d @level:must
  Scenario: Offering "sip, foo" gets sip
    When the client sends a SIP upgrade request with these changes:
      | set | Sec-WebSocket-Protocol | sip, foo |
    Then the answer is 101 Switching Protocols
    And the answer selects the subprotocol "sip"

  @id:sip-in-second-header @req:6455-11.3.4-a @req:7118-4.1-b @level:must
  Scenario: sip offered in a second Sec-WebSocket-Protocol header is one list
    When the client sends a SIP upgrade request with these changes:
      | set | Sec-WebSocket-Protocol | foo |
      | add | Sec-WebSocket-Protocol | sip |
    Then the answer is 101 Switching Protocols
    And the answer selects the subprotocol "sip"

  @id:no-offer-is-refused @req:7118-4.1-c @level:must
  Scenario: A handshake without Sec-WebSocket-Protocol is refused
    When the client sends a SIP upgrade request with these changes:
      | remove | Sec-WebSocket-Protocol |  |
    Then the answer is not 101

  @id:foo-only-is-refused @req:7118-4.1-c @level:must
  Scenario: Offering only foo is refused
    When the client sends a SIP upgrade request with these changes:
      | set | Sec-WebSocket-Protocol | foo |
    Then the answer is not 101

  @id:upper-case-sip-only @req:7936-2-a @req:7118-4.1-c @req:6455-4.2.2-d @level:must
  Scenario: Offering only "SIP" is refused: subprotocol tokens are case-sensitive
    When the client sends a SIP upgrade request with these changes:
      | set | Sec-WebSocket-Protocol | SIP |
    Then the answer is not 101

  @id:gossip-only @req:7936-2-a @req:7118-4.1-c @level:must
  Scenario: Offering only "gossip" (which contains sip) is refused
    When the client sends a SIP upgrade request with these changes:
      | set | Sec-WebSocket-Protocol | gossip |
    Then the answer is not 101

  @id:upper-and-lower-case @req:7936-2-a @req:7118-4.1-b @level:must
  Scenario: Offering "SIP, sip" gets exactly sip
    When the client sends a SIP upgrade request with these changes:
      | set | Sec-WebSocket-Protocol | SIP, sip |
    Then the answer is 101 Switching Protocols
    And the answer selects the subprotocol "sip"
