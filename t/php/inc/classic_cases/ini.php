<?php
// ini_set()/ini_get()/ini_restore() as PHP gives them
$out = [];
$out[] = ini_set('precision', '5');
$out[] = (string) (1 / 3);
$out[] = ini_get('precision');
$out[] = ini_set('no.such.setting', '1');
ini_restore('precision');
$out[] = (string) (1 / 3);
$out[] = ini_set('default_charset', 'ISO-8859-1');
echo json_encode($out), "\n";
