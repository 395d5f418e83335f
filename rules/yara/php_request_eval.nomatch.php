<?php
// A form handler: request data is escaped and printed, never run.
$name = htmlspecialchars($_POST['name'] ?? '', ENT_QUOTES);
echo "Hello, $name";
$total = array_sum(array_map('intval', explode(',', $_GET['n'] ?? '')));
