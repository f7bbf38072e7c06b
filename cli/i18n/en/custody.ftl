# custody's messages in English. Every id here exists in ja/custody.ftl too (a test
# checks it). Values in { $braces } are filled in by the program.

## Prefixes of what custody says on stderr
error-prefix = error
hint-prefix = hint
warning-prefix = warning

## Errors
no-home = no custody data home at { $path }
no-home-place = cannot find a place for the data home
home-exists = { $path } already holds a custody data home (or other files); refusing to overwrite it
database-too-new = ledger { $path } has schema version { $found }, newer than this version understands ({ $supported })
weak-passphrase = this passphrase is too weak: { $why }
not-allowed = { $actor } may not { $action }: { $reason }
bad-value-one-line = the { $field } must be one line of 1 to { $max } characters
bad-value-one-of = "{ $value }" is not a valid { $field }; use one of { $words }
bad-value-like = "{ $value }" is not a valid { $field }; write it like { $example }
bad-value-range = the { $field } must be from { $min } to { $max }
bad-value-length = the { $field } needs { $min } to { $max } characters
bad-value-no-control = the { $field } "{ $value }" contains a control character (such as a line break)
bad-value-described = "{ $value }" is not a valid { $field }: { $how }
bad-value-backwards = the { $field } ends before it starts ({ $value })
both-given = give the { $first } or the { $second }, not both
duplicate = the { $field } { $value } is already registered ({ $existing })
no-such-record = there is no { $what } { $id }
unavailable = { $id } is { $status }, not in stock; it cannot be { $action }
needs-password-channel = there is no public key for { $to }, so the file will be protected by a passphrase that must travel by another channel; say which (one of { $channels })
needs-terminal = the passphrase is shown once on the terminal, and there is no terminal
no-passphrase = { $to }'s public key is used, so there is no passphrase to send
unknown-actor = cannot tell who you are (uid { $uid } has no login name)
output-exists = { $path } exists already; choose another name

## Why something is not allowed
denial-not-registered = you are not registered at this station
denial-auditor-reads-only = auditors read the ledger; they do not write to it
denial-needs-role = this needs the role { $roles } and you are { $has }
denial-two-person-rule = an approval is always by a different person than the requester (two-person rule); ask another manager
denial-not-approved = { $request } is not approved yet; a manager other than { $requester } approves it
denial-approval-used = the approval { $request } was already used by { $used }; file a new request
denial-requested-by-other = { $request } was requested by { $requester }, not by you
denial-own-work = you performed this work; a manager who did not must confirm it
denial-unencrypted = { $request } takes personal data out without encryption (the warning its requester saw); approving it needs the reason that is accepted, which is recorded

## Advice: what to type next
hint-no-home = run `custody init` first (or set CUSTODY_HOME)
hint-no-home-place = set CUSTODY_HOME to the folder that holds custody's data
hint-database-too-new = upgrade custody
hint-unknown-actor = set CUSTODY_ACTOR to your name
hint-weak-passphrase = choose a longer passphrase of unrelated words; nothing was recorded
hint-not-registered = a manager adds people with `custody people add { $actor } --role clerk|it|manager|auditor`
hint-not-approved = a manager approves it with `custody approve { $request }`
hint-unencrypted = reject it and ask for an encrypted transfer (--transfer TX-…) or an encrypted medium, or if it must go as it is: `custody approve { $request } --accept-unencrypted REASON`
hint-needs-terminal = run this on a terminal, or ask for the passphrase with --json
hint-no-passphrase = drop --password-via
hint-disk-full = the disk is full; nothing was kept. Free some space, or write to another disk (-o).

## Warnings
warning-unencrypted = { $id } holds personal data that is not encrypted

## What things are called
field-organisation-name = organisation name
field-station-name = station name
field-persons-name = person's name
field-role = role
field-contact = contact
field-serial-number = serial number
field-asset-tag = asset tag
field-label = label
field-model = model
field-owner = owner
field-location = location
field-capacity = capacity
field-kind-of-medium = kind of medium
field-media-status = media status
field-reason-for-retiring = reason for retiring
field-direction = direction
field-count = count
field-counterparty = counterparty
field-purpose = purpose
field-method = method
field-name-of-who-confirmed-receipt = name of who confirmed receipt
field-description-of-the-content = description of the content
field-system = system
field-description-of-what-is-taken-out = description of what is taken out
field-reason = reason
field-destination = destination
field-means-of-transport = means of transport
field-condition = condition
field-note = note
field-comment = comment
field-summary = summary
field-reason-for-the-earlier-start = reason for the earlier start
field-name-of-who-destroyed-it = name of who destroyed it
field-vendor = vendor
field-keys-name = key's name
field-recipient = recipient
field-channel-for-the-passphrase = channel for the passphrase
field-destination-of-the-wiped-medium = destination of the wiped medium
field-retention-class = retention class
field-class-name = class name
field-retention-period-in-years = retention period in years
field-basis = basis
field-report = report
field-date = date
field-return-deadline = return deadline
field-time = time
field-record-id = record id
field-language = language
field-passphrase-words = passphrase words
field-actor = actor
field-entry-kind = entry kind
field-subject = subject
field-period = period
field-files-or-folders-to-retain = files or folders to retain
field-registered-medium = registered medium
field-class-it-refines = class it refines
field-kind-of-request = kind of request
field-request-state = request state
field-carry-out-state = carry-out state
field-kind-of-certificate = kind of certificate
field-personal-key = personal key
field-key-id = key id
field-department = department
field-record = record
field-medium = medium
field-carry-out = carry-out
field-handover = handover
field-download = download
field-request = request
field-retained-item = retained item
field-certificate = certificate
field-encrypted-transfer = encrypted transfer
field-registered-person = registered person
