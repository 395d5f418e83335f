<?php
// A fixed maintenance command with no request input in it.
$out = shell_exec('/usr/bin/uptime');
echo htmlspecialchars($out);
$page = intval($_GET['page'] ?? 1);
/**
 * Fires after the form is handled: see `$_POST['action']` and `$_REQUEST['nonce']`.
 */
