<?php
// session_start() and friends with the files handler, as PHP does them
$out = ['before' => session_status()];
session_start();
$out['status'] = session_status();
$out['id_len'] = strlen(session_id());
$out['name'] = session_name();
$_SESSION['visits'] = ($_SESSION['visits'] ?? 0) + 1;
$out['visits'] = $_SESSION['visits'];
$out['encoded'] = session_encode();
session_write_close();
$out['closed'] = session_status();
echo json_encode($out), "\n";
