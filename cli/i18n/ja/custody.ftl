# custody のメッセージ（日本語）。ここにある id はすべて en/custody.ftl にもあります
# （テストで確認）。{ $…} の部分はプログラムが埋めます。

## 標準エラーに出す言葉の前置き
error-prefix = エラー
hint-prefix = ヒント
warning-prefix = 警告

## エラー
no-home = { $path } に custody のデータ領域がありません
no-home-place = データ領域を置く場所が見つかりません
home-exists = { $path } にはすでに custody のデータ領域（または他のファイル）があります。上書きしません
database-too-new = 台帳 { $path } のスキーマ版 { $found } は、この版が扱える版（{ $supported }）より新しいものです
weak-passphrase = このパスフレーズは弱すぎます: { $why }
not-allowed = { $actor } は「{ $action }」を行えません: { $reason }
bad-value-one-line = { $field }は 1〜{ $max } 文字の 1 行で入力してください
bad-value-one-of = 「{ $value }」は{ $field }として使えません。次のいずれかを指定してください: { $words }
bad-value-like = 「{ $value }」は{ $field }として読めません。{ $example } のように書いてください
bad-value-range = { $field }は { $min } から { $max } までです
bad-value-length = { $field }は { $min }〜{ $max } 文字です
bad-value-no-control = { $field }「{ $value }」に制御文字（改行など）が含まれています
bad-value-described = 「{ $value }」は{ $field }として使えません: { $how }
bad-value-backwards = { $field }の終わりが始まりより前です（{ $value }）
both-given = { $first }と{ $second }の両方は指定できません。どちらか一方にしてください
duplicate = { $field } { $value } はすでに登録されています（{ $existing }）
no-such-record = { $what } { $id } はありません
unavailable = { $id } は「{ $status }」で、保管中ではありません。{ $action }ことはできません
needs-password-channel = { $to } の公開鍵がないため、ファイルはパスワードで保護します。パスワードはファイルとは別の方法で伝えます。その方法を指定してください（{ $channels } のいずれか）
needs-terminal = パスワードは端末に一度だけ表示しますが、端末がありません
no-passphrase = { $to } の公開鍵で暗号化するため、伝えるパスワードはありません
unknown-actor = 利用者を特定できません（uid { $uid } にログイン名がありません）
output-exists = { $path } はすでにあります。別の名前を指定してください

## 許可されない理由
denial-not-registered = この端末に登録されていません
denial-auditor-reads-only = 監査責任者は台帳を読むだけで、記録はしません
denial-needs-role = この操作には役割「{ $roles }」が必要です（あなたは「{ $has }」）
denial-two-person-rule = 承認は必ず申請者とは別の人が行います（二者確認）。別の保護責任者に依頼してください
denial-not-approved = { $request } はまだ承認されていません。{ $requester } 以外の保護責任者が承認します
denial-approval-used = 承認 { $request } は { $used } ですでに使われています。新しく申請してください
denial-requested-by-other = { $request } は { $requester } の申請で、あなたの申請ではありません
denial-own-work = この作業はあなたが行いました。行っていない保護責任者が確認してください
denial-unencrypted = { $request } は個人情報を暗号化せずに持ち出します（申請者にも警告が表示されました）。承認するには、それを認める理由が必要です（理由は記録されます）

## 次に入力すること
hint-no-home = 先に `custody init` を実行してください（または CUSTODY_HOME を設定してください）
hint-no-home-place = custody のデータを置くフォルダを CUSTODY_HOME に設定してください
hint-database-too-new = custody を更新してください
hint-unknown-actor = CUSTODY_ACTOR にあなたの名前を設定してください
hint-weak-passphrase = 互いに関係のない語を並べた、より長いパスフレーズにしてください。何も記録していません
hint-not-registered = 保護責任者が `custody people add { $actor } --role clerk|it|manager|auditor` で登録します
hint-not-approved = 保護責任者が `custody approve { $request }` で承認します
hint-unencrypted = 差し戻して暗号化した送付（--transfer TX-…）か暗号化媒体を求めるか、どうしてもこのまま持ち出す場合は `custody approve { $request } --accept-unencrypted 理由`
hint-needs-terminal = 端末で実行するか、--json でパスワードを受け取ってください
hint-no-passphrase = --password-via を外してください
hint-disk-full = ディスクがいっぱいです。何も残していません。空きを作るか、別のディスクに書き出してください（-o）

## 警告
warning-unencrypted = { $id } には暗号化されていない個人情報が含まれます

## 名称
field-organisation-name = 組織名
field-station-name = 端末名
field-persons-name = 氏名
field-role = 役割
field-contact = 連絡先
field-serial-number = シリアル番号
field-asset-tag = 資産番号
field-label = ラベル
field-model = 型番
field-owner = 所管課
field-location = 保管場所
field-capacity = 容量
field-kind-of-medium = 媒体の種類
field-media-status = 媒体の状態
field-reason-for-retiring = 廃止理由
field-direction = 授受の方向
field-count = 件数
field-counterparty = 相手方
field-purpose = 目的
field-method = 方法
field-name-of-who-confirmed-receipt = 受領確認者名
field-description-of-the-content = 内容
field-system = システム
field-description-of-what-is-taken-out = 持出し対象
field-reason = 理由
field-destination = 持出し先
field-means-of-transport = 移送手段
field-condition = 返却時の状態
field-note = 記録
field-comment = コメント
field-summary = 概要
field-reason-for-the-earlier-start = 起算日を遡る理由
field-name-of-who-destroyed-it = 破壊した人の氏名
field-vendor = 業者
field-keys-name = 鍵の名前
field-recipient = 送付先
field-channel-for-the-passphrase = パスワードの通知方法
field-destination-of-the-wiped-medium = 消去後の処置
field-retention-class = 保存区分
field-class-name = 区分名
field-retention-period-in-years = 保存年数
field-basis = 根拠
field-report = 台帳
field-date = 日付
field-return-deadline = 返却期限
field-time = 日時
field-record-id = 管理番号
field-language = 言語
field-passphrase-words = パスワードの語
field-actor = 実施者
field-entry-kind = 記録の種類
field-subject = 対象
field-period = 期間
field-files-or-folders-to-retain = 保存するファイル・フォルダ
field-registered-medium = 登録媒体
field-class-it-refines = 元の区分
field-kind-of-request = 申請の種類
field-request-state = 申請の状態
field-carry-out-state = 持出しの状態
field-kind-of-certificate = 証明書の種類
field-personal-key = 個人鍵
field-key-id = 鍵ID
field-department = 所属
field-record = 記録
field-medium = 媒体
field-carry-out = 持出し
field-handover = 授受
field-download = ダウンロード
field-request = 申請
field-retained-item = 保存対象
field-certificate = 証明書
field-encrypted-transfer = 暗号化送付
field-registered-person = 登録者
