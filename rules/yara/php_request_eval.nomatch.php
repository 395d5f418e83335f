<?php
// A form handler: request data is escaped and printed, never run.
$name = htmlspecialchars($_POST['name'] ?? '', ENT_QUOTES);
echo "Hello, $name";
$total = array_sum(array_map('intval', explode(',', $_GET['n'] ?? '')));
// Shapes from WordPress and phpMyAdmin that once fired: a request array filtered by a fixed
// callback, a preg_replace whose pattern holds an "e" but whose flags do not, and a comment
// naming superglobals.
$ids = array_filter($_POST['ids'] ?? [], 'is_numeric');
$html = preg_replace( '%</textarea%i', '&lt;/textarea', $content );
// Force REQUEST to be GET + POST: $_REQUEST ( $_GET + $_POST ).
