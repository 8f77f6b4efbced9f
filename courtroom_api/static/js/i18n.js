// Interface text in Chinese and English. Elements carry data-i18n="key" (text),
// data-i18n-placeholder / data-i18n-title / data-i18n-aria (attributes); t(key) for scripts.

const LANG_KEY = "courtroom.lang";

const TEXT = {
  "app.title": ["智慧法庭", "Smart Courtroom"],
  "lang.toggle": ["English", "中文"],
  "nav.logout": ["退出", "Log out"],
  "login.title": ["登录", "Sign in"],
  "login.user": ["用户名", "User name"],
  "login.password": ["密码", "Password"],
  "login.submit": ["登录", "Sign in"],
  "login.failed": ["用户名或密码错误", "Wrong user name or password"],
  "login.denied": ["当前账号无权使用该终端", "This account may not use that terminal"],
  "login.binding": ["终端绑定", "Terminal binding"],
  "role.judge": ["法官", "Judge"],
  "role.presiding_judge": ["审判长", "Presiding judge"],
  "role.peoples_assessor": ["人民陪审员", "People's assessor"],
  "role.clerk": ["书记员", "Clerk"],
  "role.plaintiff": ["原告", "Plaintiff"],
  "role.defendant": ["被告", "Defendant"],
  "role.third_party": ["第三人", "Third party"],
  "role.agent": ["代理人", "Counsel"],
  "role.prosecutor": ["公诉人", "Prosecutor"],
  "role.witness": ["证人", "Witness"],
  "role.expert": ["鉴定人", "Expert"],
  "role.interpreter": ["翻译", "Interpreter"],
  "role.party": ["当事人", "Party"],
  "role.appeal_judge": ["上诉审法官", "Appeal judge"],
  "role.admin": ["管理员", "Administrator"],
  "role.terminal": ["终端", "Terminal"],
  "role.unknown": ["未识别", "Unattributed"],
  "side.plaintiff": ["原告席", "Plaintiff side"],
  "side.defendant": ["被告席", "Defendant side"],
  "side.bench": ["审判席", "Bench"],
  "side.witness": ["证人席", "Witness stand"],
  "bench.title": ["审判台", "Bench terminal"],
  "bench.tile": ["平铺", "Tile"],
  "bench.switch": ["切换", "Switch"],
  "pane.evidence": ["证据展示", "Evidence"],
  "pane.transcript": ["实时笔录", "Live transcript"],
  "pane.dossier": ["案卷", "Dossier"],
  "pane.compare": ["比对", "Compare"],
  "pane.notes": ["庭审笔记", "Court notes"],
  "pane.statutes": ["法条检索", "Statutes"],
  "hearing.none": ["暂无进行中的庭审", "No hearing in progress"],
  "hearing.pick": ["选择庭审", "Choose hearing"],
  "hearing.live": ["直播中", "Live"],
  "hearing.start": ["开庭", "Start hearing"],
  "hearing.pause": ["休庭", "Recess"],
  "hearing.stop": ["闭庭", "End hearing"],
  "hearing.held": ["已休庭。录音盘已满：录音最后几秒暂存于服务器内存，腾出空间后写入；期间请勿重启服务器",
    "In recess. The recordings disk is full: the recording's last seconds wait in the server's memory until space is freed; do not restart the server meanwhile"],
  "hearing.status": ["状态", "Status"],
  "ev.show": ["向当事人展示", "Show to parties"],
  "ev.stop": ["停止展示", "Stop showing"],
  "ev.showing": ["正在向当事人展示", "Shown to parties"],
  "ev.none": ["未选择证据", "No exhibit selected"],
  "ev.page": ["页", "Page"],
  "ev.prev": ["上一页", "Previous page"],
  "ev.next": ["下一页", "Next page"],
  "ev.zoomin": ["放大", "Zoom in"],
  "ev.zoomout": ["缩小", "Zoom out"],
  "ev.fit": ["适合", "Fit"],
  "ev.back": ["后退10秒", "Back 10 s"],
  "ev.back2": ["后退2秒", "Back 2 s"],
  "ev.fwd2": ["前进2秒", "Forward 2 s"],
  "ev.fwd": ["前进10秒", "Forward 10 s"],
  "ev.follow": ["跟随审判台", "Follow the bench"],
  "ev.list": ["本案证据", "Evidence of this case"],
  "ev.sealed": ["已封存", "Sealed"],
  "ev.noview": ["Word 文档无法在屏幕上显示，请下载查看", "A Word document cannot be shown on screen: download it to read it"],
  "ev.download": ["下载", "Download"],
  "ev.cannotshow": ["Word 文档无法向当事人展示（请提交 PDF 版本）；当事人可在证据列表中下载",
    "A Word document cannot be shown to the parties (file it as a PDF); they can download it from their list"],
  "tr.provisional": ["识别中", "provisional"],
  "tr.unsaved": ["未存入卷宗", "not yet saved"],
  "tr.replay": ["回放", "Replay"],
  "tr.empty": ["尚无笔录", "No transcript yet"],
  "tr.corrected": ["已更正", "corrected"],
  "tr.changed": ["此行已被他人更正，现为：", "Someone else corrected this line meanwhile; it now reads:"],
  "tr.changedsincesigned": ["笔录签字后被改动（与签字时的内容不符）", "Changed since it was signed (no longer what was signed)"],
  "tr.notsaved": ["未保存：此行已被他人更正，请核对后再保存", "Not saved: someone else corrected this line meanwhile; check it and save again"],
  "tr.sealed": ["已封存部分", "sealed portion"],
  "tr.lowconf": ["低置信度", "low confidence"],
  "tr.edit": ["更正", "Correct"],
  "tr.speaker": ["更正发言人", "Speaker"],
  "tr.speakerreason": ["更正发言人的理由", "Reason for changing the speaker"],
  "tr.speakerchanged": ["发言人已更正", "Speaker corrected"],
  "tr.save": ["保存", "Save"],
  "tr.cancel": ["取消", "Cancel"],
  "tr.reason": ["更正理由", "Reason for the correction"],
  "tr.highlight": ["标亮", "Highlight"],
  "tr.note": ["批注", "Note"],
  "tr.bookmark": ["书签", "Bookmark"],
  "tr.seal": ["封存", "Seal"],
  "tr.unseal": ["解除封存", "Unseal"],
  "tr.sealreason": ["封存理由", "Reason for sealing"],
  "status.scheduled": ["待开庭", "scheduled"],
  "status.in_progress": ["庭审中", "in progress"],
  "status.paused": ["休庭", "recess"],
  "status.ended": ["已结束", "ended"],
  "status.cancelled": ["已取消", "cancelled"],
  "tr.signoff": ["签字确认", "Sign off"],
  "tr.signed": ["笔录已签字锁定", "Record signed and locked"],
  "tr.signedby": ["已签字", "Signed by"],
  "tr.unlock": ["解锁", "Unlock"],
  "tr.unlockreason": ["解锁理由", "Reason for unlocking"],
  "tr.recordinglost": ["本次庭审录音无法归档（录音目录已丢失），可不附录音签字，须写明原因（记入审计日志）",
    "This hearing's recording cannot be filed (its directory is lost): the record may be signed without it, saying why (audited)"],
  "tr.withoutrecordingreason": ["不附录音签字的原因", "Why the record is signed without its recording"],
  "tr.signwithoutrecording": ["不附录音签字", "Sign without the recording"],
  "tr.pdf": ["笔录 PDF", "Record PDF"],
  "tr.docx": ["笔录 Word", "Record DOCX"],
  "tr.open": ["打开完整笔录", "Open full transcript"],
  "dossier.case": ["案件", "Case"],
  "dossier.cause": ["案由", "Cause of action"],
  "dossier.participants": ["诉讼参与人", "Participants"],
  "dossier.hearings": ["庭审记录", "Hearings"],
  "dossier.evidence": ["证据", "Evidence"],
  "compare.left": ["左侧", "Left"],
  "compare.right": ["右侧", "Right"],
  "compare.pick": ["选择文件或笔录", "Choose a document or transcript"],
  "notes.new": ["新笔记", "New note"],
  "notes.save": ["保存笔记", "Save note"],
  "notes.private": ["仅本人可见，存入案卷", "Private to you, kept in the dossier"],
  "notes.delete": ["删除", "Delete"],
  "notes.deleteask": ["删除这条笔记？", "Delete this note?"],
  "notes.confirmdelete": ["确认删除", "Delete note"],
  "notes.edit": ["编辑", "Edit"],
  "statutes.query": ["输入法条关键词", "Search statutes"],
  "statutes.none": ["无结果", "No results"],
  "statutes.back": ["返回检索结果", "Back to results"],
  "search.title": ["笔录检索", "Transcript search"],
  "search.query": ["检索词", "Search terms"],
  "search.role": ["角色", "Role"],
  "search.case": ["案号", "Case number"],
  "search.from": ["起始日期", "From"],
  "search.to": ["截止日期", "To"],
  "search.go": ["检索", "Search"],
  "search.any": ["全部", "Any"],
  "search.none": ["无结果", "No hits"],
  "search.more": ["更多结果", "More hits"],
  "search.play": ["从此处播放", "Play from here"],
  "clerk.title": ["书记员控制台", "Clerk console"],
  "clerk.rooms": ["法庭", "Courtrooms"],
  "clerk.alarms": ["告警", "Alarms"],
  "clerk.meters": ["话筒电平", "Microphone levels"],
  "alarm.dead_channel": ["话筒无信号", "Dead microphone"],
  "alarm.capture_failed": ["采集故障", "Capture failed"],
  "alarm.transcription_failed": ["转写中断（录音继续）", "Transcription stopped (recording continues)"],
  "alarm.transcription_lag": ["转写滞后（录音正常）", "Transcript behind (recording unaffected)"],
  "alarm.finalize_failed": ["录音归档失败", "Recording could not be filed"],
  "alarm.recording_held": ["录音暂存于内存（磁盘已满）", "Recording held in memory (disk full)"],
  "alarm.disk_low": ["录音磁盘空间不足", "Recordings disk running out"],
  "alarm.recording_not_filed": ["录音未归入卷宗（已保存在服务器）", "Recording not filed (kept on the server)"],
  "alarm.transcript_not_saved": ["转写未存入卷宗（重试中，录音正常）", "Transcript not saved yet (retrying; recording unaffected)"],
  "alarm.clipping": ["削波失真", "Clipping"],
  "alarm.hum": ["交流哼声", "Mains hum"],
  "alarm.dc_offset": ["直流偏移", "DC offset"],
  "alarm.low_confidence": ["低置信度发言", "Low-confidence speech"],
  "alarm.unattributed": ["未识别发言人", "Unattributed speech"],
  "party.title": ["当事人屏幕", "Party screen"],
  "party.waiting": ["等待审判台展示证据", "Waiting for the bench to show an exhibit"],
  "common.loading": ["加载中…", "Loading…"],
  "common.error": ["出错", "Error"],
  "common.close": ["关闭", "Close"],
};

export function lang() {
  return localStorage.getItem(LANG_KEY) === "en" ? "en" : "zh";
}

export function t(key) {
  const pair = TEXT[key];
  if (!pair) return key;
  return lang() === "en" ? pair[1] : pair[0];
}

/** Translated role label; unknown roles fall back to the raw value. */
export function roleLabel(role) {
  if (!role) return t("role.unknown");
  return TEXT[`role.${role}`] ? t(`role.${role}`) : role;
}

/** ``template`` with each {{key}} of this table in the current language (other text is left as it is). */
export function fmt(template) {
  return template.replace(/\{\{([\w.]+)\}\}/g, (whole, key) => (TEXT[key] ? t(key) : whole));
}

export function applyI18n(root = document) {
  document.documentElement.lang = lang() === "en" ? "en" : "zh-CN";
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  // labels that mix data with words of the table (a hearing's title and its status)
  for (const el of root.querySelectorAll("[data-i18n-fmt]")) el.textContent = fmt(el.dataset.i18nFmt);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll("[data-i18n-aria]")) el.setAttribute("aria-label", t(el.dataset.i18nAria));
}

export function toggleLang() {
  localStorage.setItem(LANG_KEY, lang() === "en" ? "zh" : "en");
  applyI18n();
  document.dispatchEvent(new CustomEvent("langchange"));
}
