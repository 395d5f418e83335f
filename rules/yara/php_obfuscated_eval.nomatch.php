<?php
// Decoding an upload for storage is not evaluating it.
$data = base64_decode($_POST['file'] ?? '');
file_put_contents('/var/lib/app/uploads/' . basename($_POST['name'] ?? 'x'), $data);
echo json_encode(['size' => strlen($data)]);
// Binary signatures as escaped bytes (getID3, sodium_compat): data, never run.
$atom = "\x00\x00\x00\x0C\x65\x6E\x63\x64\x00\x00\x01\x00\x00\x00\x00\x0C";
